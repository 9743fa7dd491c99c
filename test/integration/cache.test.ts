// The page cache in the real worker: a mount over a local folder read through S3, hit counters,
// changes made directly in the folder (per the sync interval), strata cache stats/free/load, a
// restart that keeps the pages, and one cache across several processes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { bodyOf, s3Client } from '../helpers/s3.js';
import { type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

const T = { timeout: 120_000 };

interface CacheStats {
  hits: number;
  misses: number;
  bytesFromCache: number;
  bytesFromUfs: number;
  dirs: Array<{ dir: string; usedBytes: number; capacityBytes: number; pages: number }>;
  restore: { state: string; pages: number };
}

async function stats(w: RunningWorker): Promise<CacheStats> {
  const r = await fetch(`${w.adminUrl}/api/v1/cache`);
  assert.equal(r.status, 200);
  return (await r.json()) as CacheStats;
}

const pagesOf = (s: CacheStats) => s.dirs.reduce((a, d) => a + d.pages, 0);

async function get(w: RunningWorker, key: string, range?: string): Promise<Buffer> {
  const s3 = s3Client(w);
  try {
    return await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: key, Range: range })));
  } finally {
    s3.destroy();
  }
}

describe('page cache', () => {
  test('a second GET is a hit; a file changed in the folder is seen at once with sync interval 0', T, async () => {
    const w = await startWorker({ conf: { 'strata.user.file.metadata.sync.interval': '0', 'strata.worker.s3.event.loops': '1' } });
    try {
      const folder = join(w.rootUfs, 'data');
      const v1 = randomBytes(2.5 * 1024 * 1024);
      writeFileSync(join(folder, 'f.bin'), v1);
      const s0 = await stats(w);
      assert.deepEqual(await get(w, 'f.bin'), v1);
      const s1 = await stats(w);
      assert.equal(s1.misses - s0.misses, 3, 'three 1 MiB pages fetched');
      assert.deepEqual(await get(w, 'f.bin'), v1);
      assert.deepEqual(await get(w, 'f.bin', 'bytes=1048000-1049000'), v1.subarray(1048000, 1049001));
      const s2 = await stats(w);
      assert.equal(s2.misses, s1.misses, 'no new miss');
      assert.equal(s2.hits - s1.hits, 5);
      assert.ok(s2.bytesFromCache >= v1.length);
      // Changed behind the cache (same size): the next GET has the new bytes, never a mix.
      const v2 = randomBytes(v1.length);
      writeFileSync(join(folder, 'f.bin'), v2);
      utimesSync(join(folder, 'f.bin'), new Date(), new Date(Date.now() + 5000));
      assert.deepEqual(await get(w, 'f.bin'), v2);
      const metrics = await (await fetch(`${w.adminUrl}/metrics`)).text();
      assert.match(metrics, /strata_cache_hits_total\{tier="disk"\} \d+/);
      assert.match(metrics, /strata_cache_used_bytes\{dir="[^"]+"\} \d+/);
    } finally {
      await w.stop();
    }
  });

  test('with the default interval a change behind the cache waits; writes through the worker are seen at once by every process', T, async () => {
    const w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '2' } });
    const s3 = s3Client(w);
    try {
      const folder = join(w.rootUfs, 'data');
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'k', Body: 'one' }));
      // Read on both processes (connections are spread), so both cache the status.
      for (let i = 0; i < 6; i++) assert.equal((await get(w, 'k')).toString(), 'one');
      writeFileSync(join(folder, 'k'), 'behind');
      for (let i = 0; i < 4; i++) assert.equal((await get(w, 'k')).toString(), 'one', 'the cached status is trusted for 1min');
      for (let round = 0; round < 3; round++) {
        const body = `through-${round}`;
        await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'k', Body: body }));
        for (let i = 0; i < 4; i++) assert.equal((await get(w, 'k')).toString(), body);
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'data' }));
        assert.equal(listed.Contents?.find((c) => c.Key === 'k')?.Size, body.length);
      }
    } finally {
      s3.destroy();
      await w.stop();
    }
  });

  test('concurrent cold GETs through several processes fetch each page once', T, async () => {
    const w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '2' } });
    try {
      const data = randomBytes(4 * 1024 * 1024 + 1000);
      writeFileSync(join(w.rootUfs, 'data', 'hot.bin'), data);
      const bodies = await Promise.all(Array.from({ length: 12 }, async () => {
        // A connection each, so that both processes serve some.
        const r = await fetch(`${w.s3Url}/data/hot.bin`, { headers: { connection: 'close' } });
        return Buffer.from(await r.arrayBuffer());
      }));
      for (const b of bodies) assert.ok(b.equals(data));
      const s = await stats(w);
      assert.equal(s.bytesFromUfs, data.length, 'every byte fetched from the folder once');
      assert.equal(s.bytesFromCache + s.bytesFromUfs, 12 * data.length);
    } finally {
      await w.stop();
    }
  });

  test('strata cache stats, load (with a summary), free', T, async () => {
    const w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '2' } });
    try {
      const folder = join(w.rootUfs, 'data');
      mkdirSync(join(folder, 'set'), { recursive: true });
      for (let i = 0; i < 5; i++) writeFileSync(join(folder, 'set', `f${i}`), randomBytes(300_000 * (i + 1)));
      writeFileSync(join(folder, 'outside'), randomBytes(1000));
      const load = await w.cli('cache', 'load', 's3://data/set/');
      assert.equal(load.code, 0, load.stderr);
      assert.match(load.stdout, /Loaded 5 of 5 files, 4\.3 MiB/);
      const after = await stats(w);
      assert.equal(pagesOf(after), 1 + 1 + 1 + 2 + 2, 'every page of every file under the prefix');
      const text = await w.cli('cache', 'stats');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /Page cache: .* used/);
      assert.match(text.stdout, /Hit ratio: /);
      assert.match(text.stdout, /Evictions: +0/);
      // Loaded pages are hits.
      const before = await stats(w);
      await get(w, 'set/f4');
      const hit = await stats(w);
      assert.equal(hit.misses, before.misses);
      const free = await w.cli('cache', 'free', '/data/set/f4');
      assert.equal(free.code, 0, free.stderr);
      assert.match(free.stdout, /Freed 2 pages/);
      assert.equal(pagesOf(await stats(w)), 5);
      await get(w, 'set/f4');
      assert.equal((await stats(w)).misses - hit.misses, 2, 'freed pages are fetched again');
      const bad = await w.cli('cache', 'load', '/nosuchbucket/');
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /NoSuchBucket/);
    } finally {
      await w.stop();
    }
  });

  test('a restart keeps the pages: found again in the background, then hits', T, async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'strata-cache-restart-'));
    try {
      const conf = { 'strata.worker.s3.event.loops': '1', 'strata.user.file.metadata.sync.interval': '0' };
      const first = await startWorker({ workDir, conf });
      const data = randomBytes(3 * 1024 * 1024 + 5);
      writeFileSync(join(first.rootUfs, 'data', 'keep.bin'), data);
      assert.deepEqual(await get(first, 'keep.bin'), data);
      await waitFor(async () => pagesOf(await stats(first)) === 4, 10_000, () => 'pages not written');
      await first.stop();
      const second = await startWorker({ workDir, conf });
      try {
        await waitFor(async () => (await stats(second)).restore.state === 'done', 10_000, () => 'restore did not end');
        const s = await stats(second);
        assert.equal(s.restore.pages, 4);
        assert.equal(pagesOf(s), 4);
        assert.deepEqual(await get(second, 'keep.bin'), data);
        const s2 = await stats(second);
        assert.equal(s2.misses, 0);
        assert.equal(s2.hits, 4);
        assert.match(second.output(), /page cache: restored/);
        const status = await second.cli('status');
        assert.equal(status.code, 0, status.stderr);
        assert.match(status.stdout, /hit ratio 100\.0% of 4 page lookups; restore done \(4 pages\)/);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });

  test('a small quota: pages are evicted and the folder stays under it', T, async () => {
    const w = await startWorker({ conf: { 'strata.worker.page.store.sizes': '4MB', 'strata.worker.page.store.eviction.policy': 'FIFO', 'strata.worker.s3.event.loops': '1' } });
    try {
      const files = Array.from({ length: 10 }, () => randomBytes(1024 * 1024));
      files.forEach((b, i) => writeFileSync(join(w.rootUfs, 'data', `q${i}`), b));
      for (let i = 0; i < files.length; i++) {
        assert.deepEqual(await get(w, `q${i}`), files[i]);
        const s = await stats(w);
        assert.ok(s.dirs[0].usedBytes <= s.dirs[0].capacityBytes, `${s.dirs[0].usedBytes} <= ${s.dirs[0].capacityBytes}`);
      }
      const metrics = await (await fetch(`${w.adminUrl}/metrics`)).text();
      assert.match(metrics, /strata_cache_evictions_total [1-9]/);
      // FIFO: the last file read is still cached, the first is not.
      const before = await stats(w);
      await get(w, 'q9');
      assert.equal((await stats(w)).misses, before.misses);
      await get(w, 'q0');
      assert.equal((await stats(w)).misses, before.misses + 1);
    } finally {
      await w.stop();
    }
  });

  test('a cache folder that cannot be used never fails a request', T, async () => {
    const parent = mkdtempSync(join(tmpdir(), 'strata-cache-bad-'));
    const notDir = join(parent, 'file');
    writeFileSync(notDir, 'not a folder');
    const w = await startWorker({ conf: { 'strata.worker.page.store.dirs': notDir, 'strata.worker.s3.event.loops': '1' } });
    try {
      const data = randomBytes(1.5 * 1024 * 1024);
      writeFileSync(join(w.rootUfs, 'data', 'x'), data);
      for (let i = 0; i < 2; i++) assert.deepEqual(await get(w, 'x'), data);
      const metrics = await (await fetch(`${w.adminUrl}/metrics`)).text();
      assert.match(metrics, /strata_cache_failures_total\{op="(init|write)"\} [1-9]/);
    } finally {
      await w.stop();
      rmSync(parent, { recursive: true, force: true });
    }
  });
});
