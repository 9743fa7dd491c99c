import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildRing,
  crc32String,
  DEFAULT_RING_OPTIONS,
  ketamaPoints,
  murmur3String,
  ringOptionsFrom,
  type RingAlgorithm,
  type RingMember,
} from '../../../src/cluster/ring.js';
import { Config } from '../../../src/server/config.js';

const KEYS = 1_000_000;
const keys: string[] = [];
for (let i = 0; i < KEYS; i++) keys.push(`/bucket-${i % 13}/data/${i % 1009}/part-${i}.parquet`);

const member = (i: number): RingMember => ({ id: `worker-${i}`, address: `10.0.${i >> 8}.${i & 255}:29998` });
const membersOf = (n: number): RingMember[] => Array.from({ length: n }, (_, i) => member(i));
const multiProbe = { ...DEFAULT_RING_OPTIONS };
const ketama = { algorithm: 'NGINX_KETAMA' as RingAlgorithm, virtualNodes: 0 };

function owners(members: RingMember[], options = multiProbe): string[] {
  const ring = buildRing(members, options);
  return keys.map((k) => ring.ownerOf(k)!.id);
}

function maxOverMean(ids: string[], n: number): number {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  assert.equal(counts.size, n, 'every member owns keys');
  return Math.max(...counts.values()) / (ids.length / n);
}

test('the default is MULTI_PROBE with 2000 virtual nodes', () => {
  assert.deepEqual(DEFAULT_RING_OPTIONS, { algorithm: 'MULTI_PROBE', virtualNodes: 2000 });
});

for (const n of [3, 10, 100]) {
  test(`MULTI_PROBE over ${n} workers: balance within 5% of the mean, movement on add and remove at most 1.2/N`, (t) => {
    const members = membersOf(n + 1);
    const base = owners(members.slice(0, n));
    const ratio = maxOverMean(base, n);
    t.diagnostic(`${n} workers, 1M keys: most loaded / mean = ${ratio.toFixed(4)}`);
    assert.ok(ratio <= 1.05, `most loaded worker holds ${ratio} x the mean`);

    // Add worker n: keys only move to it.
    const added = owners(members);
    let moved = 0;
    for (let i = 0; i < KEYS; i++) {
      if (added[i] !== base[i]) {
        moved++;
        assert.equal(added[i], members[n].id, 'a key moves only to the new worker');
      }
    }
    const addFraction = moved / KEYS;
    t.diagnostic(`add one to ${n}: moved ${(addFraction * (n + 1)).toFixed(3)} x 1/(N+1)`);
    assert.ok(addFraction <= 1.2 / (n + 1), `adding moved ${addFraction}`);

    // Remove a worker from the middle of the order: only its keys move.
    const gone = members[1].id;
    const removed = owners(members.slice(0, n).filter((m) => m.id !== gone));
    moved = 0;
    for (let i = 0; i < KEYS; i++) {
      if (removed[i] !== base[i]) {
        moved++;
        assert.equal(base[i], gone, 'only the removed worker\'s keys move');
      }
    }
    const removeFraction = moved / KEYS;
    t.diagnostic(`remove one of ${n}: moved ${(removeFraction * n).toFixed(3)} x 1/N`);
    assert.ok(removeFraction <= 1.2 / n, `removing moved ${removeFraction}`);
  });
}

test('NGINX_KETAMA balance over 3, 10 and 100 workers (measured, not bounded: nginx fixes 160 points)', (t) => {
  for (const n of [3, 10, 100]) {
    const ratio = maxOverMean(owners(membersOf(n), ketama), n);
    t.diagnostic(`NGINX_KETAMA ${n} workers, 1M keys: most loaded / mean = ${ratio.toFixed(4)}`);
  }
});

test('the ring does not depend on member order', () => {
  const members = membersOf(10);
  const shuffled = [members[7], members[2], members[9], members[0], members[5], members[1], members[8], members[3], members[6], members[4]];
  for (const options of [multiProbe, ketama]) {
    const a = buildRing(members, options);
    const b = buildRing(shuffled, options);
    assert.deepEqual(a.members, b.members);
    for (let i = 0; i < 20_000; i++) {
      assert.equal(a.ownerOf(keys[i])!.id, b.ownerOf(keys[i])!.id);
      assert.deepEqual(a.preferenceList(keys[i], 3), b.preferenceList(keys[i], 3));
    }
  }
});

test('preferenceList: distinct members, owner first, next owner when the owner leaves', () => {
  for (const options of [multiProbe, ketama]) {
    const members = membersOf(10);
    const ring = buildRing(members, options);
    for (let i = 0; i < 300; i++) {
      const key = keys[i * 3331];
      const list = ring.preferenceList(key, 4);
      assert.equal(list.length, 4);
      assert.equal(new Set(list.map((m) => m.id)).size, 4, 'distinct');
      assert.equal(list[0], ring.ownerOf(key));
      const without = buildRing(members.filter((m) => m.id !== list[0].id), options);
      assert.equal(without.ownerOf(key)!.id, list[1].id, `${options.algorithm}: the second choice takes over`);
    }
    assert.equal(ring.preferenceList(keys[0], 50).length, 10, 'at most every member');
    assert.deepEqual(ring.preferenceList(keys[0], 0), []);
  }
});

test('an empty ring owns nothing; a one-member ring owns everything', () => {
  for (const options of [multiProbe, ketama]) {
    const empty = buildRing([], options);
    assert.equal(empty.ownerOf('/b/k'), undefined);
    assert.deepEqual(empty.preferenceList('/b/k', 3), []);
    assert.deepEqual(empty.members, []);
    const one = buildRing([member(1)], options);
    assert.equal(one.ownerOf('/b/k')!.id, 'worker-1');
    assert.equal(one.ownerOf('')!.id, 'worker-1');
  }
});

test('the ring is immutable and refuses bad input', () => {
  const members = membersOf(3);
  const ring = buildRing(members, multiProbe);
  members.push(member(9));
  members[0].id = 'changed';
  assert.equal(ring.members.length, 3);
  assert.equal(ring.members[0].id, 'worker-0');
  assert.throws(() => (ring.members as RingMember[]).push(member(5)));
  assert.throws(() => buildRing([member(1), member(1)], multiProbe), /share the id/);
  assert.throws(() => buildRing([member(1), { id: 'x', address: member(1).address }], ketama), /share the address/);
  assert.throws(() => buildRing(membersOf(2), { algorithm: 'MULTI_PROBE', virtualNodes: 0 }), /virtual nodes/);
  assert.throws(() => buildRing(membersOf(2), { algorithm: 'PLAIN' as RingAlgorithm, virtualNodes: 10 }), /unknown ring algorithm/);
  assert.throws(() => buildRing(membersOf(2), { algorithm: 'MULTI_PROBE', virtualNodes: 10, probes: 0 }), /probes/);
});

test('non-ASCII paths hash their UTF-8 bytes', () => {
  assert.equal(crc32String('123456789'), 0xcbf43926);
  assert.equal(crc32String('/bücket/ключ a'), 0xf6eaf848); // python3: zlib.crc32('/bücket/ключ a'.encode())
  assert.equal(murmur3String('hello'), 0x248bfa47);
  assert.equal(murmur3String('The quick brown fox jumps over the lazy dog', 0x9747b28c), 0x2fa826cd);
  assert.equal(murmur3String('é'), murmur3String('\u00e9'));
  assert.notEqual(murmur3String('é'), murmur3String('e\u0301'));
});

test('NGINX_KETAMA points: crc32(host "\\0" port prev_hash), split as nginx splits the server name', () => {
  // Vectors from python3: zlib.crc32(host + b"\0" + port + struct.pack("<I", prev)).
  const first3 = (address: string) => [...ketamaPoints(address).slice(0, 3)];
  assert.deepEqual(first3('127.0.0.1:8080'), [0x6dca9547, 0x92c7adf9, 0xddbeb1b8]);
  assert.deepEqual(first3('unix:/tmp/s.sock'), [0x3ce4ccd5, 0xa0a6a035, 0x0ce221a1]);
  assert.deepEqual(first3('backend'), [0x1ae70921, 0xe1e566a4, 0x60b0e5a6]);
  assert.deepEqual(first3('host:abc'), [0xac376789, 0x3e990c6a, 0x9054a572]);
  assert.deepEqual(first3('[::1]:8080'), [0x68fd9523, 0xc3d99972, 0x099e9317]);
  assert.deepEqual(first3('h:'), [0x55652c94, 0x559bdf7a, 0x5e86e8cb]);
  assert.equal(ketamaPoints('127.0.0.1:8080').length, 160);
});

test('NGINX_KETAMA lookup: first point at or after crc32(path), wrapping to the first', () => {
  const members = [member(1), member(2), member(3)];
  const ring = buildRing(members, ketama);
  const points = members
    .flatMap((m) => [...ketamaPoints(m.address)].map((hash) => ({ hash, id: m.id })))
    .sort((a, b) => a.hash - b.hash);
  for (let i = 0; i < 5_000; i++) {
    const h = crc32String(keys[i]);
    const expected = points.find((p) => p.hash >= h) ?? points[0];
    assert.equal(ring.ownerOf(keys[i])!.id, expected.id);
  }
});

test('ringOptionsFrom reads strata.worker.ring.* (and the spec system\'s spelling of the virtual-node count)', () => {
  assert.deepEqual(ringOptionsFrom(new Config()), DEFAULT_RING_OPTIONS);
  const config = new Config({
    overrides: { 'alluxio.worker.ring.algorithm': 'nginx_ketama', 'alluxio.user.consistent.hash.virtual.node.count.per.worker': '500' },
  });
  assert.deepEqual(ringOptionsFrom(config), { algorithm: 'NGINX_KETAMA', virtualNodes: 500 });
  assert.throws(() => new Config({ overrides: { 'strata.worker.ring.algorithm': 'MAGLEV' } }), /not one of MULTI_PROBE, NGINX_KETAMA/);
  assert.throws(() => buildRing(membersOf(10_000), DEFAULT_RING_OPTIONS), /more than 16777216 points/);
});
