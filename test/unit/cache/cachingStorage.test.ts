// The caching layer over a fake under-storage: versions never mixed, the sync interval,
// stale-if-error, CACHE_THROUGH writes, prefetch, and streaming bodies.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { CachingStorage } from '../../../src/cache/cachingStorage.js';
import { LocalIndex } from '../../../src/cache/cacheIndex.js';
import { PageStore } from '../../../src/cache/pageStore.js';
import { isSendable } from '../../../src/ufs/fileBody.js';
import { emptyMeta, type ObjectRead } from '../../../src/ufs/ufs.js';
import { FakeStorage } from './fakeStorage.js';

const PAGE = 4096;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function setup(syncIntervalMs: number, prefetchPages = 2) {
  const dir = mkdtempSync(join(tmpdir(), 'strata-caching-unit-'));
  roots.push(dir);
  const index = new LocalIndex({ dirs: [dir], capacities: [1 << 24], policy: 'LRU', high: 0.95, low: 0.9 });
  const pages = new PageStore({ dirs: [dir], pageSize: PAGE, memoryBytes: 0, index });
  const ufs = new FakeStorage();
  const stale: string[] = [];
  const cached = new CachingStorage(ufs, { mount: 'b', pages, syncIntervalMs, prefetchPages, onStale: (op) => stale.push(op) });
  return { ufs, cached, index, pages, stale };
}

async function bodyOf(read: ObjectRead | null): Promise<Buffer> {
  assert.ok(read);
  if (read.bytes) return read.bytes;
  const chunks: Buffer[] = [];
  for await (const c of read.body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const whole = () => null;
const range = (start: number, end: number) => () => ({ start, end });

describe('CachingStorage', () => {
  test('a second read comes from the cache, whole or ranged', async () => {
    const { ufs, cached } = setup(60_000);
    const data = randomBytes(PAGE * 3 + 10);
    ufs.set('k', data);
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), data);
    const reads = ufs.calls.read;
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), data);
    assert.deepEqual(await bodyOf(await cached.read('k', range(PAGE - 5, 2 * PAGE + 5))), data.subarray(PAGE - 5, 2 * PAGE + 6));
    assert.equal(ufs.calls.read, reads, 'no under-storage read for cached pages');
    // One cold read was one ranged read of the under-storage, not one per page.
    assert.equal(reads, 1);
  });

  test('a file changed behind the cache: pages of the old version are never mixed with the new', async () => {
    const { ufs, cached } = setup(0);
    const v1 = Buffer.alloc(PAGE * 3, 1);
    const v2 = Buffer.alloc(PAGE * 3, 2);
    ufs.set('k', v1);
    // Only the first page of v1 is cached.
    assert.deepEqual(await bodyOf(await cached.read('k', range(0, 10))), v1.subarray(0, 11));
    ufs.set('k', v2);
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), v2);
  });

  test('with a long sync interval, a change behind the cache is found when a missing page is fetched', async () => {
    const { ufs, cached, index, pages } = setup(-1);
    const v1 = Buffer.alloc(PAGE * 3, 1);
    const v2 = Buffer.alloc(PAGE * 3 + 7, 2);
    ufs.set('k', v1);
    await bodyOf(await cached.read('k', range(0, 10)));
    ufs.set('k', v2);
    // Cached status and page 0 still say v1 when only page 0 is read (interval -1: never re-checked)...
    assert.deepEqual(await bodyOf(await cached.read('k', range(0, 10))), v1.subarray(0, 11));
    // ...but a page that must be fetched finds v2: that read ends early rather than mix versions,
    const got = await bodyOf(await cached.read('k', whole)).catch((e: Error) => e);
    assert.ok(got instanceof Error ? /changed/.test(got.message) : got.equals(v2), 'never a mix');
    // and the next read has the new version, whole.
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), v2);
    // A read whose first page must be fetched starts over with the new version before sending.
    await pages.drain();
    await index.free('b', 'k');
    ufs.set('k', v1);
    assert.deepEqual(await bodyOf(await cached.read('k', range(PAGE * 2, PAGE * 2 + 5))), v1.subarray(PAGE * 2, PAGE * 2 + 6));
  });

  test('sync interval: a change behind the cache shows once the interval passed', async () => {
    const { ufs, cached } = setup(100);
    ufs.set('k', 'one');
    assert.equal((await cached.stat('k'))?.size, 3);
    ufs.set('k', 'three');
    assert.equal((await cached.stat('k'))?.size, 3);
    await sleep(150);
    assert.equal((await cached.stat('k'))?.size, 5);
  });

  test('writes through the cache are seen at once, whatever the interval', async () => {
    const { ufs, cached } = setup(-1);
    ufs.set('k', 'old');
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), Buffer.from('old'));
    await cached.list({ prefix: '', delimiter: '', after: '', maxKeys: 10 });
    await cached.write('k', [Readable.from([Buffer.from('newer')])], () => ({ etag: 'x', meta: emptyMeta() }));
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), Buffer.from('newer'));
    await cached.write('k2', [Readable.from([Buffer.from('2')])], () => ({ etag: 'x', meta: emptyMeta() }));
    const listed = await cached.list({ prefix: '', delimiter: '', after: '', maxKeys: 10 });
    assert.deepEqual(listed.entries.map((e) => e.key), ['k', 'k2']);
    await cached.delete('k');
    assert.equal(await cached.stat('k'), null);
    assert.equal(await cached.read('k', whole), null);
  });

  test('stale-if-error: cached status and pages are served when the store cannot be reached', async () => {
    const { ufs, cached, stale } = setup(0);
    const data = randomBytes(PAGE * 2);
    ufs.set('k', data);
    ufs.set('other', data);
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), data);
    const listing = await cached.list({ prefix: '', delimiter: '', after: '', maxKeys: 10 });
    ufs.unavailable = true;
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), data);
    assert.deepEqual(await cached.list({ prefix: '', delimiter: '', after: '', maxKeys: 10 }), listing);
    assert.ok(stale.includes('stat') && stale.includes('list'));
    // What was never cached still fails, as the store does.
    await assert.rejects(cached.read('other', whole), /down/);
  });

  test('sequential ranged reads prefetch the next pages', async () => {
    const { ufs, cached, index } = setup(60_000, 2);
    const data = randomBytes(PAGE * 8);
    ufs.set('k', data);
    await bodyOf(await cached.read('k', range(0, PAGE - 1)));
    await bodyOf(await cached.read('k', range(PAGE, 2 * PAGE - 1)));
    // Pages 2 and 3 come without being asked for.
    for (let i = 0; i < 100 && index.index.usage()[0].pages < 4; i++) await sleep(10);
    const reads = ufs.reads.length;
    assert.deepEqual(await bodyOf(await cached.read('k', range(2 * PAGE, 4 * PAGE - 1))), data.subarray(2 * PAGE, 4 * PAGE));
    // Later reads of the store are the next prefetch (pages 4 and up), never pages 2 and 3 again.
    assert.ok(ufs.reads.slice(reads).every(([, start]) => start >= 4 * PAGE), JSON.stringify(ufs.reads));
  });

  test('a large read streams page by page, to a Readable consumer and through sendTo', async () => {
    const { ufs, cached } = setup(60_000, 3);
    ufs.latencyMs = 2;
    const data = randomBytes(PAGE * 20 + 123);
    ufs.set('k', data);
    const r = await cached.read('k', range(100, PAGE * 20 + 50));
    assert.ok(r && isSendable(r.body));
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    await r.body.sendTo(out);
    assert.deepEqual(Buffer.concat(chunks), data.subarray(100, PAGE * 20 + 51));
    assert.deepEqual(await bodyOf(await cached.read('k', whole)), data);
  });

  test('server-side copy is offered only when the adapter has one, and gets the source adapter', async () => {
    const { cached } = setup(-1);
    assert.equal(cached.copyFrom, undefined);
    const dir = mkdtempSync(join(tmpdir(), 'strata-caching-unit-'));
    roots.push(dir);
    const index = new LocalIndex({ dirs: [dir], capacities: [1 << 24], policy: 'LRU', high: 0.95, low: 0.9 });
    const pages = new PageStore({ dirs: [dir], pageSize: PAGE, memoryBytes: 0, index });
    class Copying extends FakeStorage {
      copyFrom(source: unknown, sourceKey: string, key: string) {
        assert.ok(source instanceof FakeStorage, 'the adapter, not its cache');
        this.set(key, source.objects.get(sourceKey)!.data);
        return this.stat(key);
      }
    }
    const a = new Copying();
    const b = new Copying();
    const ca = new CachingStorage(a, { mount: 'a', pages, syncIntervalMs: -1, prefetchPages: 0 });
    const cb = new CachingStorage(b, { mount: 'b', pages, syncIntervalMs: -1, prefetchPages: 0 });
    a.set('src', 'copied');
    b.set('dst', 'old');
    assert.deepEqual(await bodyOf(await cb.read('dst', whole)), Buffer.from('old'));
    await cb.copyFrom!(ca, 'src', 'dst', emptyMeta());
    assert.deepEqual(await bodyOf(await cb.read('dst', whole)), Buffer.from('copied'), 'the cached status followed the copy');
  });

  test('concurrent cold reads of one object fetch each page once', async () => {
    const { ufs, cached } = setup(60_000, 2);
    ufs.latencyMs = 5;
    const data = randomBytes(PAGE * 4);
    ufs.set('k', data);
    const bodies = await Promise.all(Array.from({ length: 8 }, async () => bodyOf(await cached.read('k', whole))));
    for (const b of bodies) assert.deepEqual(b, data);
    const fetched = ufs.reads.reduce((a, [, s, e]) => a + e - s + 1, 0);
    assert.ok(fetched <= data.length * 2, `fetched ${fetched} bytes for a ${data.length}-byte object`);
  });
});
