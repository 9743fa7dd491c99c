// strata_cache_* metrics. The counters are kept by every process (the primary adds them up); the
// gauges of disk usage and the eviction counter by the process that owns the cache index.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface IndexUsage {
  dirs: Array<{ dir: string; usedBytes: number; capacityBytes: number; pages: number }>;
}

export class CacheMetrics {
  readonly hits: Counter<'tier'>;
  readonly misses: Counter;
  readonly bytes: Counter<'source'>;
  readonly corrupt: Counter;
  readonly failures: Counter<'op'>;
  readonly stale: Counter<'op'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.hits = new Counter({ name: 'strata_cache_hits_total', help: 'Pages read from the cache, by tier (memory, disk).', labelNames: ['tier'], registers });
    this.misses = new Counter({ name: 'strata_cache_misses_total', help: 'Pages not in the cache (fetched from the under-storage).', registers });
    this.bytes = new Counter({ name: 'strata_cache_bytes_served_total', help: 'Bytes of pages served, by source (cache, ufs).', labelNames: ['source'], registers });
    this.corrupt = new Counter({ name: 'strata_cache_corrupt_pages_total', help: 'Pages found corrupt or truncated on disk (treated as misses).', registers });
    this.failures = new Counter({ name: 'strata_cache_failures_total', help: 'Cache operations that failed (the request was served from the under-storage), by op.', labelNames: ['op'], registers });
    this.stale = new Counter({ name: 'strata_cache_stale_served_total', help: 'Cached status or listings served because the under-storage could not be reached, by op.', labelNames: ['op'], registers });
  }
}

/** Metrics of the cache index, in the process that owns it. */
export class CacheIndexMetrics {
  readonly evictions: Counter;

  constructor(registry: Registry, usage: () => IndexUsage) {
    const registers = [registry];
    this.evictions = new Counter({ name: 'strata_cache_evictions_total', help: 'Pages evicted to keep cache folders under their quota.', registers });
    new Gauge({
      name: 'strata_cache_used_bytes',
      help: 'Disk bytes used by cache pages, by cache folder.',
      labelNames: ['dir'],
      registers,
      collect() {
        for (const d of usage().dirs) this.set({ dir: d.dir }, d.usedBytes);
      },
    });
    new Gauge({
      name: 'strata_cache_capacity_bytes',
      help: 'Quota of each cache folder.',
      labelNames: ['dir'],
      registers,
      collect() {
        for (const d of usage().dirs) this.set({ dir: d.dir }, d.capacityBytes);
      },
    });
    new Gauge({
      name: 'strata_cache_pages',
      help: 'Pages in each cache folder.',
      labelNames: ['dir'],
      registers,
      collect() {
        for (const d of usage().dirs) this.set({ dir: d.dir }, d.pages);
      },
    });
  }
}

/** Sums of the cache counters in Prometheus text (all processes). */
export function cacheTotalsOf(text: string): { hits: number; misses: number; bytesFromCache: number; bytesFromUfs: number; corrupt: number; failures: number; stale: number } {
  const t = { hits: 0, misses: 0, bytesFromCache: 0, bytesFromUfs: 0, corrupt: 0, failures: 0, stale: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('strata_cache_')) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.startsWith('strata_cache_hits_total')) t.hits += n;
    else if (line.startsWith('strata_cache_misses_total')) t.misses += n;
    else if (line.startsWith('strata_cache_bytes_served_total')) {
      if (line.includes('source="cache"')) t.bytesFromCache += n;
      else t.bytesFromUfs += n;
    } else if (line.startsWith('strata_cache_corrupt_pages_total')) t.corrupt += n;
    else if (line.startsWith('strata_cache_failures_total')) t.failures += n;
    else if (line.startsWith('strata_cache_stale_served_total')) t.stale += n;
  }
  return t;
}
