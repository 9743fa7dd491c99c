// Pages on disk: checksums, restore after a restart, single fetch under concurrent misses (in one
// process and across two), and cache folders that fail.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { LocalIndex } from '../../../src/cache/cacheIndex.js';
import { dirOf, pageId } from '../../../src/cache/pageFile.js';
import { type CacheObserver, fileRef, PageStore } from '../../../src/cache/pageStore.js';

const PAGE = 4096;
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'strata-cache-unit-'));
  roots.push(d);
  return d;
}

function counting(): CacheObserver & { n: Record<string, number> } {
  const n: Record<string, number> = { hit: 0, miss: 0, fetched: 0, fromCache: 0, corrupt: 0, failure: 0 };
  return { n, hit: () => n.hit++, miss: () => n.miss++, fetched: () => n.fetched++, fromCache: () => n.fromCache++, corrupt: () => n.corrupt++, failure: () => n.failure++ };
}

function setup(dirs = [tempDir()], capacity = 1 << 20, memoryBytes = 0) {
  const index = new LocalIndex({ dirs, capacities: dirs.map(() => capacity), policy: 'LRU', high: 0.95, low: 0.9 });
  const observer = counting();
  const store = new PageStore({ dirs, pageSize: PAGE, memoryBytes, index, observer });
  return { dirs, index, store, observer };
}

const data = randomBytes(PAGE * 3 + 100);
const file = fileRef('bucket', 'key', 'v1', data.length);
let fetches = 0;
const fetch = async (start: number, end: number) => {
  fetches++;
  await sleep(5);
  return Buffer.from(data.subarray(start, end + 1));
};

/** Waits until `pages` pages are indexed and none of the test file is still being written. */
async function written(index: LocalIndex, pages: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const ids = Array.from({ length: 4 }, (_, n) => pageId(file.fh, file.vh, n));
    const committed = index.index.usage().reduce((a, u) => a + u.pages, 0) >= pages && !ids.some((id) => index.index.isPending(id));
    if (committed) return;
    await sleep(10);
  }
  throw new Error('pages were not written');
}

function pathOf(dirs: string[], index: number): string {
  const id = pageId(file.fh, file.vh, index);
  return join(dirs[dirOf(id, dirs.length)], id);
}

describe('PageStore', () => {
  test('a prefetch fetches a missing large page once, and leaves one on disk unread', async () => {
    const big = 512 * 1024;
    const dirs = [tempDir()];
    const index = new LocalIndex({ dirs, capacities: [8 << 20], policy: 'LRU', high: 0.95, low: 0.9 });
    const observer = counting();
    const store = new PageStore({ dirs, pageSize: big, memoryBytes: 0, index, observer });
    const bytes = randomBytes(2 * big);
    const f = fileRef('bucket', 'big', 'v1', bytes.length);
    let n = 0;
    const fetchBig = async (start: number, end: number) => {
      n++;
      return Buffer.from(bytes.subarray(start, end + 1));
    };
    await store.prefetch(f, 1, fetchBig);
    assert.equal(n, 1);
    await store.drain();
    await store.prefetch(f, 1, fetchBig);
    assert.deepEqual([n, observer.n.hit], [1, 0], 'the page file is there: neither fetched nor read');
    assert.deepEqual(await store.get(f, 1, fetchBig), bytes.subarray(big));
    assert.deepEqual([n, observer.n.hit], [1, 1]);
  });

  test('a miss is fetched once, written, and read back from disk checked', async () => {
    const { store, index, observer } = setup();
    fetches = 0;
    const first = await store.get(file, 1, fetch);
    assert.deepEqual(first, data.subarray(PAGE, 2 * PAGE));
    await written(index, 1);
    const again = await store.get(file, 1, fetch);
    assert.deepEqual(again, first);
    assert.equal(fetches, 1);
    assert.deepEqual([observer.n.miss, observer.n.hit], [1, 1]);
    // The last page is short.
    assert.deepEqual(await store.get(file, 3, fetch), data.subarray(3 * PAGE));
  });

  test('concurrent misses of one page fetch it once, in one process and across two', async () => {
    const dirs = [tempDir()];
    const { store, index } = setup(dirs);
    // A second process's view: its own PageStore over the same folders and the same index.
    const other = new PageStore({ dirs, pageSize: PAGE, memoryBytes: 0, index });
    fetches = 0;
    const all = await Promise.all([
      ...Array.from({ length: 10 }, () => store.get(file, 0, fetch)),
      ...Array.from({ length: 10 }, () => other.get(file, 0, fetch)),
    ]);
    assert.equal(fetches, 1);
    for (const b of all) assert.deepEqual(b, data.subarray(0, PAGE));
  });

  test('a corrupt page is a miss (counted), never wrong data', async () => {
    const { store, index, observer, dirs } = setup();
    fetches = 0;
    await store.get(file, 0, fetch);
    await written(index, 1);
    const path = pathOf(dirs, 0);
    const bytes = readFileSync(path);
    bytes[100] ^= 0xff;
    writeFileSync(path, bytes);
    const read = await store.get(file, 0, fetch);
    assert.deepEqual(read, data.subarray(0, PAGE));
    assert.equal(observer.n.corrupt, 1);
    assert.equal(fetches, 2);
  });

  test('a truncated page is a miss (counted)', async () => {
    const { store, index, observer, dirs } = setup();
    fetches = 0;
    await store.get(file, 2, fetch);
    await written(index, 1);
    truncateSync(pathOf(dirs, 2), 1000);
    assert.deepEqual(await store.get(file, 2, fetch), data.subarray(2 * PAGE, 3 * PAGE));
    assert.equal(observer.n.corrupt, 1);
    assert.equal(fetches, 2);
  });

  test('a restart finds the pages on disk again; bad files are dropped', async () => {
    const dirs = [tempDir(), tempDir()];
    const first = setup(dirs);
    for (let i = 0; i < 4; i++) await first.store.get(file, i, fetch);
    await written(first.index, 4);
    truncateSync(pathOf(dirs, 3), 10);
    writeFileSync(join(dirs[0], 'ab'), 'not a folder of pages');
    // "Restart": a new index and store over the same folders.
    const second = setup(dirs);
    const state = await second.index.restore();
    assert.equal(state.state, 'done');
    assert.equal(state.pages, 3);
    assert.equal(state.dropped, 1);
    fetches = 0;
    for (let i = 0; i < 3; i++) assert.deepEqual(await second.store.get(file, i, fetch), data.subarray(i * PAGE, (i + 1) * PAGE));
    assert.equal(fetches, 0);
    assert.equal(second.observer.n.hit, 3);
  });

  test('several folders: pages spread by hash, each folder under its quota', async () => {
    const dirs = [tempDir(), tempDir(), tempDir()];
    // Room for 3 pages per folder (a page of 4 KiB takes 8 KiB on disk with its header).
    const { store, index } = setup(dirs, 3 * 8192);
    const big = randomBytes(PAGE * 40);
    const f = fileRef('bucket', 'big', 'v1', big.length);
    for (let i = 0; i < 40; i++) {
      await store.get(f, i, async (s, e) => big.subarray(s, e + 1));
      for (const u of index.index.usage()) assert.ok(u.usedBytes <= u.capacityBytes);
    }
    await sleep(50);
    const usage = index.index.usage();
    assert.ok(usage.every((u) => u.pages > 0), 'every folder holds pages');
    assert.ok(index.index.evictions > 0);
  });

  test('a cache folder that cannot be written: served from the under-storage, counted', async () => {
    // Its staging folder is a file: every page write fails, for root too (permissions would not stop root).
    const dir = tempDir();
    writeFileSync(join(dir, '.tmp'), 'in the way');
    const { store, observer, index } = setup([dir]);
    fetches = 0;
    for (let i = 0; i < 2; i++) assert.deepEqual(await store.get(file, 0, fetch), data.subarray(0, PAGE));
    await sleep(50);
    assert.equal(fetches, 2);
    assert.ok(observer.n.failure >= 1);
    assert.equal(index.index.usage()[0].usedBytes, 0, 'the failed page gave its room back');
  });

  test('a cache folder that is not a folder at all: still served', async () => {
    const parent = tempDir();
    const notDir = join(parent, 'file');
    writeFileSync(notDir, 'x');
    const { store, observer } = setup([notDir]);
    assert.deepEqual(await store.get(file, 1, fetch), data.subarray(PAGE, 2 * PAGE));
    await sleep(50);
    assert.ok(observer.n.failure >= 1);
  });

  test('the memory tier serves small pages without touching the disk', async () => {
    const { store, observer, dirs, index } = setup([tempDir()], 1 << 20, 1 << 20);
    await store.get(file, 3, fetch);
    await written(index, 1);
    rmSync(pathOf(dirs, 3));
    assert.deepEqual(await store.get(file, 3, fetch), data.subarray(3 * PAGE));
    assert.equal(observer.n.hit, 1);
    store.forgetMemory();
    fetches = 0;
    await store.get(file, 3, fetch);
    assert.equal(fetches, 1);
  });

  test('hot large pages are kept in memory; a buffer is reused only once no send holds it', async () => {
    const BIG = 512 * 1024;
    const dir = tempDir();
    const index = new LocalIndex({ dirs: [dir], capacities: [64 << 20], policy: 'LRU', high: 0.95, low: 0.9 });
    const observer = counting();
    const tiers: string[] = [];
    const store = new PageStore({ dirs: [dir], pageSize: BIG, memoryBytes: 8 * BIG, index, observer: { ...observer, hit: (_b, tier) => tiers.push(tier) } });
    const big = randomBytes(BIG * 3);
    const f = fileRef('bucket', 'big', 'v1', big.length);
    const fetchBig = async (s: number, e: number) => Buffer.from(big.subarray(s, e + 1));
    for (let i = 0; i < 2; i++) await store.get(f, i, fetchBig);
    await store.drain();
    (await store.lease(f, 0, fetchBig)).release(); // disk, seen once
    const l2 = await store.lease(f, 0, fetchBig); // disk, now kept in memory
    const l3 = await store.lease(f, 0, fetchBig); // memory
    assert.deepEqual(tiers, ['disk', 'disk', 'memory']);
    assert.deepEqual(l3.data, big.subarray(0, BIG));
    store.forgetMemory();
    // Reads of other pages take pooled buffers: never the one two sends still hold.
    for (let i = 0; i < 3; i++) (await store.lease(f, 1, fetchBig)).release();
    assert.deepEqual(l2.data, big.subarray(0, BIG));
    assert.deepEqual(l3.data, big.subarray(0, BIG));
    l2.release();
    l3.release();
    assert.deepEqual((await store.lease(f, 0, fetchBig)).data, big.subarray(0, BIG));
  });
});
