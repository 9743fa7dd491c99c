// The index alone: eviction order of each policy, quotas per folder, watermarks, stale versions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type EvictionPolicy, type PageInfo, PageIndex } from '../../../src/cache/pageIndex.js';

const page = (name: string, dir = 0, bytes = 100, vh = 'v1'): PageInfo => ({ id: name, dir, bytes, mount: 'b', key: name, fh: `f-${name}`, vh });

function filled(policy: EvictionPolicy, names: string[], capacity = 10_000): PageIndex {
  const index = new PageIndex({ capacities: [capacity], policy, high: 0.95, low: 0.9 });
  for (const n of names) {
    assert.equal(index.reserve(page(n)).ok, true);
    index.commit(n);
  }
  return index;
}

describe('PageIndex', () => {
  test('LRU evicts the least recently used first', () => {
    const index = filled('LRU', ['a', 'b', 'c']);
    index.touch('a');
    assert.deepEqual(index.evictionOrder(0), ['b', 'c', 'a']);
  });

  test('FIFO evicts in insertion order, whatever was read', () => {
    const index = filled('FIFO', ['a', 'b', 'c']);
    index.touch('a');
    index.touch('a');
    assert.deepEqual(index.evictionOrder(0), ['a', 'b', 'c']);
  });

  test('LFU evicts the least often used, the older first among equals', () => {
    const index = filled('LFU', ['a', 'b', 'c', 'd']);
    index.touch('a');
    index.touch('a');
    index.touch('c');
    index.touch('d');
    assert.deepEqual(index.evictionOrder(0), ['b', 'c', 'd', 'a']);
  });

  for (const policy of ['LRU', 'LFU', 'FIFO'] as const) {
    test(`${policy}: passing the high watermark evicts down to the low one, in policy order`, () => {
      // 10 pages of 100 bytes fit in 1000; high 0.8 (800), low 0.5 (500).
      const index = new PageIndex({ capacities: [1000], policy, high: 0.8, low: 0.5 });
      for (const n of ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7']) {
        assert.equal(index.reserve(page(n)).ok, true);
        index.commit(n);
      }
      assert.equal(index.usage()[0].usedBytes, 800);
      index.touch('p0');
      index.touch('p0');
      const { ok, removed } = index.reserve(page('p8'));
      assert.equal(ok, true);
      // Down to 500 with the new page counted: 4 of the 8 leave.
      assert.equal(removed.length, 4);
      assert.equal(index.usage()[0].usedBytes, 500);
      assert.equal(index.evictions, 4);
      const expected = { LRU: ['p1', 'p2', 'p3', 'p4'], FIFO: ['p0', 'p1', 'p2', 'p3'], LFU: ['p1', 'p2', 'p3', 'p4'] }[policy];
      assert.deepEqual(removed.map((p) => p.id), expected);
    });
  }

  test('the quota is never exceeded, pages in flight included', () => {
    const index = new PageIndex({ capacities: [1000], policy: 'LRU', high: 1, low: 1 });
    // Ten reservations not yet written fill the folder; an eleventh is refused, not over quota.
    for (let i = 0; i < 10; i++) assert.equal(index.reserve(page(`p${i}`)).ok, true);
    assert.equal(index.reserve(page('p10')).ok, false);
    assert.equal(index.usage()[0].usedBytes, 1000);
    index.commit('p0');
    const r = index.reserve(page('p10'));
    assert.equal(r.ok, true);
    assert.deepEqual(r.removed.map((p) => p.id), ['p0']);
    assert.ok(index.usage()[0].usedBytes <= 1000);
    // A page larger than the folder is never cached.
    assert.equal(index.reserve(page('huge', 0, 2000)).ok, false);
  });

  test('each folder keeps its own quota', () => {
    const index = new PageIndex({ capacities: [300, 1000], policy: 'LRU', high: 1, low: 1 });
    for (let i = 0; i < 10; i++) {
      const small = page(`s${i}`, 0);
      const big = page(`b${i}`, 1);
      assert.equal(index.reserve(small).ok, true);
      index.commit(small.id);
      assert.equal(index.reserve(big).ok, true);
      index.commit(big.id);
      const [u0, u1] = index.usage();
      assert.ok(u0.usedBytes <= 300 && u1.usedBytes <= 1000);
    }
    assert.deepEqual(index.usage().map((u) => u.pages), [3, 10]);
    // Evictions in folder 0 took only folder 0's pages.
    assert.equal(index.has('b0'), true);
    assert.equal(index.has('s0'), false);
  });

  test('freeing one file drops its pages only, whatever their version', () => {
    const index = new PageIndex({ capacities: [10_000], policy: 'LRU', high: 1, low: 1 });
    for (const [id, fh, vh] of [['x.0', 'fx', 'old'], ['x.1', 'fx', 'new'], ['y.0', 'fy', 'v']]) {
      index.reserve({ ...page(id), fh, vh });
      index.commit(id);
    }
    assert.deepEqual(index.matching('b', '', 'fx').map((p) => p.id).sort(), ['x.0', 'x.1']);
    assert.equal(index.evictions, 0);
  });

  test('restored pages are indexed and trimmed to the quota', () => {
    const index = new PageIndex({ capacities: [500], policy: 'LRU', high: 0.9, low: 0.6 });
    let removed = 0;
    for (let i = 0; i < 8; i++) removed += index.restore(page(`r${i}`)).length;
    assert.ok(index.usage()[0].usedBytes <= 500);
    assert.ok(removed > 0);
    assert.equal(index.has('r7'), true);
  });
});
