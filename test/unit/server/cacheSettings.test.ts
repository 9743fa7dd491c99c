// Cache settings from configuration (spec spellings, one size or one per folder, checks) and the
// paths `strata cache` takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCachePath } from '../../../src/cache/pageCache.js';
import { pageCacheSettings } from '../../../src/server/cacheSettings.js';
import { Config } from '../../../src/server/config.js';

test('defaults: one folder under the work dir, 512MB, 1 MiB pages, LRU, sync interval 1min', () => {
  const s = pageCacheSettings(new Config({ overrides: { 'strata.work.dir': '/srv/strata' } }));
  assert.deepEqual(s.dirs, ['/srv/strata/cache']);
  assert.deepEqual(s.capacities, [512 * 1024 ** 2]);
  assert.equal(s.pageSize, 1024 ** 2);
  assert.equal(s.policy, 'LRU');
  assert.equal(s.syncIntervalMs, 60_000);
  assert.equal(s.enabled, true);
  assert.deepEqual([s.high, s.low], [0.95, 0.9]);
});

test('the spec spelling of the keys, several folders and their sizes', () => {
  const s = pageCacheSettings(new Config({
    overrides: {
      'alluxio.worker.page.store.dirs': '/mnt/a,/mnt/b',
      'alluxio.worker.page.store.sizes': '1GB,2GB',
      'alluxio.worker.page.store.page.size': '64KB',
      'strata.worker.page.store.eviction.policy': 'lfu',
      'alluxio.user.file.metadata.sync.interval': '-1',
    },
  }));
  assert.deepEqual(s.dirs, ['/mnt/a', '/mnt/b']);
  assert.deepEqual(s.capacities, [1024 ** 3, 2 * 1024 ** 3]);
  assert.equal(s.pageSize, 64 * 1024);
  assert.equal(s.policy, 'LFU');
  assert.equal(s.syncIntervalMs, -1);
  const one = pageCacheSettings(new Config({ overrides: { 'strata.worker.page.store.dirs': '/a,/b,/c', 'strata.worker.page.store.sizes': '10MB' } }));
  assert.deepEqual(one.capacities, [10 * 1024 ** 2, 10 * 1024 ** 2, 10 * 1024 ** 2]);
});

test('inconsistent settings are refused with a clear message', () => {
  const bad = (o: Record<string, string>) => () => pageCacheSettings(new Config({ overrides: o }));
  assert.throws(bad({ 'strata.worker.page.store.dirs': '/a,/b,/c', 'strata.worker.page.store.sizes': '1GB,2GB' }), /2 values for 3 folders/);
  assert.throws(bad({ 'strata.worker.page.store.watermark.low.ratio': '0.99' }), /watermarks/);
  assert.throws(bad({ 'strata.worker.page.store.page.size': '1KB' }), /page.size/);
  assert.throws(() => new Config({ overrides: { 'strata.worker.page.store.watermark.high.ratio': 'high' } }), /not a number/);
});

test('cache paths: /bucket/prefix and s3://bucket/prefix', () => {
  assert.deepEqual(parseCachePath('/data/images/2024/'), { bucket: 'data', prefix: 'images/2024/' });
  assert.deepEqual(parseCachePath('s3://data/images'), { bucket: 'data', prefix: 'images' });
  assert.deepEqual(parseCachePath('/data'), { bucket: 'data', prefix: '' });
  assert.deepEqual(parseCachePath('s3://data/'), { bucket: 'data', prefix: '' });
  assert.throws(() => parseCachePath('/'), /names no bucket/);
});
