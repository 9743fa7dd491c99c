// The Prometheus registry of a worker process. Names follow the contract in DESIGN.md: strata_*.
// With several processes, the primary's /metrics adds up every child's registry.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

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
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'strata_s3_bytes_total',
    help: 'Object bytes received (in) and sent (out) by S3 requests.',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly connections = new Gauge({
    name: 'strata_s3_open_connections',
    help: 'Client connections open on the S3 port.',
    registers: [this.registry],
  });
  readonly ufsRequests = new Counter({
    name: 'strata_ufs_requests_total',
    help: 'Calls to the under-storage, by mount (bucket) and operation.',
    labelNames: ['mount', 'op'] as const,
    registers: [this.registry],
  });
  readonly ufsErrors = new Counter({
    name: 'strata_ufs_errors_total',
    help: 'Under-storage calls that failed, by mount and operation.',
    labelNames: ['mount', 'op'] as const,
    registers: [this.registry],
  });
  readonly ufsDuration = new Histogram({
    name: 'strata_ufs_request_duration_seconds',
    help: 'Latency of under-storage calls, by mount and operation.',
    labelNames: ['mount', 'op'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly ringMembers = new Gauge({
    name: 'strata_ring_members',
    help: 'Workers in this worker\'s hash ring (1 without a cluster); the smallest view among its processes.',
    registers: [this.registry],
    // Every process keeps its own ring: the smallest shows a process that has not caught up.
    aggregator: 'min',
  });

  constructor() {
    // Includes the event-loop lag (strata_process_nodejs_eventloop_lag_seconds), memory, CPU, handles.
    collectDefaultMetrics({ register: this.registry, prefix: 'strata_process_' });
    this.ringMembers.set(1);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  observe(action: string, status: number, seconds: number, bytesIn: number, bytesOut: number): void {
    this.requests.inc({ action, status: String(status) });
    this.duration.observe({ action }, seconds);
    if (bytesIn) this.bytes.inc({ direction: 'in' }, bytesIn);
    if (bytesOut) this.bytes.inc({ direction: 'out' }, bytesOut);
  }

  observeUfs(mount: string, op: string, seconds: number, ok: boolean): void {
    this.ufsRequests.inc({ mount, op });
    this.ufsDuration.observe({ mount, op }, seconds);
    if (!ok) this.ufsErrors.inc({ mount, op });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
