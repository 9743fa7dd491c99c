// A worker process's page cache: settings from configuration, the page store of this process, and
// the index (here, or in the primary over IPC). The object service wraps each mount's storage with
// `wrap`; the admin API uses `stats`, `free` and `load` (through the object service).
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import { CacheIndexMetrics, CacheMetrics } from '../metrics/cacheMetrics.js';
import type { UnderStorage } from '../ufs/ufs.js';
import { CachingStorage } from './cachingStorage.js';
import { type CacheIndexApi, type IndexStats, IpcIndexClient, LocalIndex, type RestoreState, serveIndex } from './cacheIndex.js';
import type { EvictionPolicy } from './pageIndex.js';
import { PageStore } from './pageStore.js';

/** The cache's settings (server/cacheSettings.ts reads them from the configuration). */
export interface PageCacheSettings {
  enabled: boolean;
  dirs: string[];
  capacities: number[];
  pageSize: number;
  policy: EvictionPolicy;
  high: number;
  low: number;
  prefetchPages: number;
  memoryBytes: number;
  syncIntervalMs: number;
  asyncRestore: boolean;
  /** Listings kept for the sync interval (not in a cluster). */
  cacheListings: boolean;
}

export type CacheRole = 'single' | 'primary' | 'child';

export interface CacheLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CacheStats extends IndexStats {
  pageSize: number;
  syncIntervalMs: number;
}

export class PageCache {
  private constructor(
    readonly settings: PageCacheSettings,
    readonly pages: PageStore,
    private readonly index: CacheIndexApi,
    /** The index, when this process owns it. */
    readonly local: LocalIndex | undefined,
    private readonly metrics: CacheMetrics,
    private readonly log: CacheLog,
  ) {}

  /**
   * The cache of one process. `registry` gets the per-process counters; `indexRegistry` the
   * index owner's gauges (the primary keeps them apart from the children's sums).
   */
  static async open(settings: PageCacheSettings, role: CacheRole, registry: Registry, indexRegistry: Registry, log: CacheLog): Promise<PageCache> {
    const metrics = new CacheMetrics(registry);
    const warnOnce = rateLimited(log);
    const failure = (op: string, e: unknown) => {
      metrics.failures.inc({ op });
      warnOnce(`failure:${op}`, { op, err: (e as Error)?.message }, 'page cache operation failed; served from the under-storage');
    };
    let local: LocalIndex | undefined;
    let index: CacheIndexApi;
    if (role === 'child') {
      index = new IpcIndexClient();
    } else {
      let indexMetrics: CacheIndexMetrics | undefined = undefined;
      local = new LocalIndex({
        dirs: settings.dirs,
        capacities: settings.capacities,
        policy: settings.policy,
        high: settings.high,
        low: settings.low,
        onEvicted: (n) => indexMetrics?.evictions.inc(n),
        onCorrupt: () => metrics.corrupt.inc(),
        onFailure: failure,
      });
      const owned = local;
      indexMetrics = new CacheIndexMetrics(indexRegistry, () => ({ dirs: owned.index.usage().map((u, i) => ({ dir: settings.dirs[i], ...u })) }));
      index = local;
      // Temporary files of writes a previous run never finished; each folder made if missing.
      for (const dir of settings.dirs) {
        await fsp.rm(join(dir, '.tmp'), { recursive: true, force: true }).catch(() => undefined);
        await fsp.mkdir(join(dir, '.tmp'), { recursive: true }).catch((e) => failure('init', e));
      }
      if (role === 'primary') serveIndex(local);
    }
    const hitMemory = metrics.hits.labels('memory');
    const hitDisk = metrics.hits.labels('disk');
    const fromCache = metrics.bytes.labels('cache');
    const fromUfs = metrics.bytes.labels('ufs');
    // Shown at 0 from the start (dashboards plot rates of them).
    for (const c of [hitMemory, hitDisk, fromCache, fromUfs]) c.inc(0);
    const pages = new PageStore({
      dirs: settings.dirs,
      pageSize: settings.pageSize,
      memoryBytes: settings.memoryBytes,
      index,
      observer: {
        hit: (bytes, tier) => {
          (tier === 'memory' ? hitMemory : hitDisk).inc();
          fromCache.inc(bytes);
        },
        miss: () => metrics.misses.inc(),
        fetched: (bytes) => fromUfs.inc(bytes),
        fromCache: (bytes) => fromCache.inc(bytes),
        corrupt: () => metrics.corrupt.inc(),
        failure,
      },
    });
    return new PageCache(settings, pages, index, local, metrics, log);
  }

  /** Puts the cache in front of a mount's storage. */
  wrap(inner: UnderStorage, bucket: string): CachingStorage {
    const warn = rateLimited(this.log);
    return new CachingStorage(inner, {
      mount: bucket,
      pages: this.pages,
      syncIntervalMs: this.settings.syncIntervalMs,
      prefetchPages: this.settings.prefetchPages,
      cacheListings: this.settings.cacheListings,
      onStale: (op, key, e) => {
        this.metrics.stale.inc({ op });
        warn(`stale:${bucket}`, { bucket, key, op, err: (e as Error)?.message }, 'under-storage unreachable; serving cached metadata');
      },
    });
  }

  /** Finds the pages already on disk (index owner only); logs progress. */
  async restore(): Promise<RestoreState | undefined> {
    if (!this.local) return undefined;
    this.log.info({ dirs: this.settings.dirs }, 'page cache: finding pages on disk');
    const s = await this.local.restore((p) => {
      if (p.state === 'running') this.log.info({ pages: p.pages, bytes: p.bytes }, 'page cache: restoring');
    });
    this.log.info({ pages: s.pages, bytes: s.bytes, dropped: s.dropped, seconds: s.seconds, state: s.state }, 'page cache: restored');
    return s;
  }

  async stats(): Promise<CacheStats> {
    return { ...(await this.index.stats()), pageSize: this.settings.pageSize, syncIntervalMs: this.settings.syncIntervalMs };
  }

  /** Drops the pages of keys under a prefix from disk (every process drops its memory tier apart). */
  free(bucket: string, prefix: string): Promise<{ pages: number; bytes: number }> {
    this.pages.forgetMemory();
    return this.index.free(bucket, prefix);
  }

  /** Lets the pages being written reach the disk (up to 5 s), then lets go of the index. */
  async close(): Promise<void> {
    await Promise.race([this.pages.drain(), new Promise((r) => setTimeout(r, 5000).unref())]);
    this.index.close();
  }
}

/** A warning per topic at most every 10 s (a failing disk must not flood the log). */
function rateLimited(log: CacheLog): (topic: string, obj: object, msg: string) => void {
  const last = new Map<string, number>();
  return (topic, obj, msg) => {
    const now = Date.now();
    if ((last.get(topic) ?? 0) > now - 10_000) return;
    last.set(topic, now);
    log.warn(obj, msg);
  };
}

/** `/<bucket>/<prefix>` or `s3://<bucket>/<prefix>` -> bucket and key prefix. */
export function parseCachePath(text: string): { bucket: string; prefix: string } {
  const rest = text.startsWith('s3://') ? text.slice(5) : text.replace(/^\/+/, '');
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1);
  if (!bucket) throw new Error(`"${text}" names no bucket: use /<bucket>/<prefix> or s3://<bucket>/<prefix>`);
  return { bucket, prefix };
}
