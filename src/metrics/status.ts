// What the status page and `strata status` show: throughput over the last hour (sampled from the
// worker's own metrics, all processes added up), and the most recent failed requests.
import type { FinishedRequest } from '../s3/handler.js';

export interface FailureEntry {
  time: string;
  requestId: string;
  action: string;
  status: number;
  code: string;
  message: string;
  user: string;
  bucket?: string;
  key?: string;
}

const RECENT_ERRORS = 50;

export class RecentErrors {
  private readonly items: FailureEntry[] = [];

  add(e: FailureEntry): void {
    this.items.push(e);
    if (this.items.length > RECENT_ERRORS) this.items.shift();
  }

  list(): FailureEntry[] {
    return [...this.items].reverse();
  }
}

export function failureOf(done: FinishedRequest): FailureEntry | undefined {
  if (!done.error || done.status < 400) return undefined;
  return {
    time: new Date().toISOString(),
    requestId: done.requestId,
    action: done.action,
    status: done.status,
    code: done.error.code,
    message: done.error.message,
    user: done.user,
    bucket: done.bucket,
    key: done.key,
  };
}

/** Running totals read from the metrics text. */
export interface Totals {
  requests: number;
  clientErrors: number;
  serverErrors: number;
  bytesIn: number;
  bytesOut: number;
  /** Page cache lookups (all processes). */
  cacheHits: number;
  cacheMisses: number;
}

export interface Sample extends Totals {
  /** Milliseconds since the epoch. */
  t: number;
}

const HOUR_MS = 3_600_000;

/** Reads the counters the status page plots from Prometheus text. */
export function totalsOf(metricsText: string): Totals {
  const t: Totals = { requests: 0, clientErrors: 0, serverErrors: 0, bytesIn: 0, bytesOut: 0, cacheHits: 0, cacheMisses: 0 };
  for (const line of metricsText.split('\n')) {
    if (line.startsWith('strata_s3_requests_total{')) {
      const status = Number(/status="(\d+)"/.exec(line)?.[1] ?? 0);
      const n = Number(line.slice(line.lastIndexOf(' ') + 1));
      t.requests += n;
      if (status >= 500) t.serverErrors += n;
      else if (status >= 400) t.clientErrors += n;
    } else if (line.startsWith('strata_s3_bytes_total{')) {
      const n = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (line.includes('direction="in"')) t.bytesIn += n;
      else t.bytesOut += n;
    } else if (line.startsWith('strata_cache_hits_total')) {
      t.cacheHits += Number(line.slice(line.lastIndexOf(' ') + 1));
    } else if (line.startsWith('strata_cache_misses_total')) {
      t.cacheMisses += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return t;
}

/** Samples the totals every interval and keeps the last hour. */
export class StatusHistory {
  private readonly samples: Sample[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly readMetrics: () => Promise<string>, private readonly intervalMs: number) {}

  start(): void {
    // A sample that fails (a child that does not answer the primary's metrics request, while it
    // starts) is skipped: the next one comes an interval later.
    const sample = () => void this.sample().catch(() => undefined);
    sample();
    this.timer = setInterval(sample, this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async sample(): Promise<Sample> {
    const s: Sample = { t: Date.now(), ...totalsOf(await this.readMetrics()) };
    this.samples.push(s);
    const cutoff = s.t - HOUR_MS;
    while (this.samples.length > 0 && this.samples[0].t < cutoff) this.samples.shift();
    return s;
  }

  list(): Sample[] {
    return [...this.samples];
  }
}
