// The Prometheus registry of a worker. Names follow the contract in DESIGN.md: strata_*.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'strata_s3_requests_total',
    help: 'S3 requests served, by action and HTTP status.',
    labelNames: ['action', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'strata_s3_request_duration_seconds',
    help: 'Time from request arrival to the end of the response, by action.',
    labelNames: ['action'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'strata_process_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observe(action: string, status: number, seconds: number): void {
    this.requests.inc({ action, status: String(status) });
    this.duration.observe({ action }, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
