// The page cache's settings from the configuration (docs/cache.md): folders and their quotas,
// page size, eviction, watermarks, prefetch, memory tier, sync interval.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PageCacheSettings } from '../cache/pageCache.js';
import type { EvictionPolicy } from '../cache/pageIndex.js';
import type { Config } from './config.js';
import { parseSize } from './configSchema.js';

const P = 'strata.worker.page.store.';

export function pageCacheSettings(config: Config): PageCacheSettings {
  const listed = config.list(`${P}dirs`).map((d) => resolve(d.startsWith('~') ? homedir() + d.slice(1) : d));
  const dirs = listed.length > 0 ? listed : [join(config.path('strata.work.dir'), 'cache')];
  const sizes = config.list(`${P}sizes`).map(parseSize);
  const capacities = sizes.length === 1 ? dirs.map(() => sizes[0]) : sizes;
  if (capacities.length !== dirs.length) {
    throw new Error(`${P}sizes has ${sizes.length} values for ${dirs.length} folders in ${P}dirs: give one size, or one per folder`);
  }
  const high = Number(config.string(`${P}watermark.high.ratio`));
  const low = Number(config.string(`${P}watermark.low.ratio`));
  if (!(low > 0 && low <= high && high <= 1)) throw new Error(`the cache watermarks need 0 < low (${low}) <= high (${high}) <= 1`);
  const pageSize = config.bytes(`${P}page.size`);
  if (pageSize < 4096 || pageSize > 64 * 1024 * 1024) throw new Error(`${P}page.size must be between 4KB and 64MB`);
  return {
    enabled: config.bool(`${P}enabled`),
    dirs,
    capacities,
    pageSize,
    policy: config.string(`${P}eviction.policy`) as EvictionPolicy,
    high,
    low,
    prefetchPages: Math.max(0, config.int(`${P}prefetch.pages`)),
    memoryBytes: config.bytes(`${P}memory.size`),
    syncIntervalMs: config.durationMs('strata.user.file.metadata.sync.interval'),
    asyncRestore: config.bool(`${P}async.restore.enabled`),
    // In a cluster, listings are not cached: any worker must list what an owner just wrote.
    cacheListings: config.string('strata.worker.membership.manager.type') !== 'ETCD' && config.list('strata.worker.membership.static.workers').length === 0,
  };
}
