// Speed of the hash ring (src/cluster/ring.ts): build time, ownerOf and preferenceList(3) per call,
// for 3, 10 and 100 workers and both algorithms. No servers; one process, one core.
//
//   npm run build && node dist/bench/ringLookup.js [--workers 3,10,100] [--virtual-nodes 2000] [--keys 200000] [--rounds 5]
//   npm run build && node dist/bench/ringLookup.js --balance   (balance and movement of variants, 1M keys)
//
// Paths look like S3 object paths (`/bucket-3/data/17/part-123456.parquet`, about 40 characters); each
// figure is the median of --rounds passes over --keys distinct paths (so the CPU caches see a spread of
// keys, not one). Build time is the median of --rounds builds.
import { buildRing, murmur3String, type RingAlgorithm, type RingMember, type RingOptions } from '../src/cluster/ring.js';
import { fmt, machineLine, parseFlags, table } from './lib.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Most loaded member / mean, and keys moved when member n joins and when member 1 leaves (x 1/N). */
function balance(keys: string[], n: number, options: RingOptions): { ratio: number; added: number; removed: number } {
  const members: RingMember[] = Array.from({ length: n + 1 }, (_, i) => ({ id: `worker-${i}`, address: `10.0.${i >> 8}.${i & 255}:29998` }));
  const base = buildRing(members.slice(0, n), options);
  const plus = buildRing(members, options);
  const minus = buildRing(members.slice(0, n).filter((_, i) => i !== 1), options);
  const counts = new Map<string, number>();
  let added = 0;
  let removed = 0;
  for (const k of keys) {
    const o = base.ownerOf(k)!.id;
    counts.set(o, (counts.get(o) ?? 0) + 1);
    if (plus.ownerOf(k)!.id !== o) added++;
    if (minus.ownerOf(k)!.id !== o) removed++;
  }
  return {
    ratio: Math.max(...counts.values()) / (keys.length / n),
    added: (added / keys.length) * (n + 1),
    removed: (removed / keys.length) * n,
  };
}

/** The floor: every key on a member picked uniformly by its own hash (what perfect balance leaves). */
function samplingFloor(keys: string[], n: number): number {
  const counts = new Uint32Array(n);
  for (const k of keys) counts[murmur3String(k, 0x51) % n]++;
  return Math.max(...counts) / (keys.length / n);
}

function balanceReport(workers: number[]): void {
  const keys = Array.from({ length: 1_000_000 }, (_, i) => `/bucket-${i % 13}/data/${i % 1009}/part-${i}.parquet`);
  console.log('== hash ring: balance (most loaded / mean) and movement (keys moved x 1/N) over 1M keys ==\n');
  const rows = [['variant', ...workers.flatMap((n) => [`${n}: max/mean`, `${n}: add`, `${n}: remove`])]];
  rows.push(['key-sampling floor', ...workers.flatMap((n) => [fmt(samplingFloor(keys, n), 4), '1.000', '1.000'])]);
  const variants: Array<[string, RingOptions]> = [
    ['NGINX_KETAMA (160 points)', { algorithm: 'NGINX_KETAMA', virtualNodes: 0 }],
    ['plain ring, 2000 vnodes', { algorithm: 'MULTI_PROBE', virtualNodes: 2000, probes: 1 }],
    ['plain ring, 10000 vnodes', { algorithm: 'MULTI_PROBE', virtualNodes: 10000, probes: 1 }],
    ['MULTI_PROBE 2000 vnodes, 2 probes', { algorithm: 'MULTI_PROBE', virtualNodes: 2000, probes: 2 }],
    ['MULTI_PROBE 2000 vnodes, 4 probes (default)', { algorithm: 'MULTI_PROBE', virtualNodes: 2000, probes: 4 }],
    ['MULTI_PROBE 2000 vnodes, 8 probes', { algorithm: 'MULTI_PROBE', virtualNodes: 2000, probes: 8 }],
    ['MULTI_PROBE 160 vnodes, 4 probes', { algorithm: 'MULTI_PROBE', virtualNodes: 160, probes: 4 }],
  ];
  for (const [name, options] of variants) {
    const cells = workers.flatMap((n) => {
      const b = balance(keys, n, options);
      return [fmt(b.ratio, 4), fmt(b.added, 3), fmt(b.removed, 3)];
    });
    rows.push([name, ...cells]);
  }
  console.log(table(rows, rows[0].map((_, i) => i > 0)));
}

function main(): void {
  const flags = parseFlags(process.argv.slice(2));
  if (flags.has('balance')) {
    balanceReport((flags.get('workers') ?? '3,10,100').split(',').map(Number));
    return;
  }
  const workers = (flags.get('workers') ?? '3,10,100').split(',').map(Number);
  const virtualNodes = Number(flags.get('virtual-nodes') ?? 2000);
  const keyCount = Number(flags.get('keys') ?? 200_000);
  const rounds = Number(flags.get('rounds') ?? 5);
  console.log('== hash ring: build and lookup speed ==');
  console.log(machineLine());
  console.log(`node ${process.version}; ${keyCount} paths per pass, median of ${rounds}; MULTI_PROBE with ${virtualNodes} virtual nodes\n`);
  const keys = Array.from({ length: keyCount }, (_, i) => `/bucket-${i % 13}/data/${i % 1009}/part-${i}.parquet`);
  const rows = [['algorithm', 'workers', 'build ms', 'ownerOf ns/op', 'preferenceList(3) ns/op']];
  let sink = 0;
  for (const algorithm of ['MULTI_PROBE', 'NGINX_KETAMA'] as RingAlgorithm[]) {
    for (const n of workers) {
      const members: RingMember[] = Array.from({ length: n }, (_, i) => ({ id: `worker-${i}`, address: `10.0.${i >> 8}.${i & 255}:29998` }));
      const builds: number[] = [];
      let ring = buildRing(members, { algorithm, virtualNodes });
      for (let r = 0; r < rounds; r++) {
        const t = process.hrtime.bigint();
        ring = buildRing(members, { algorithm, virtualNodes });
        builds.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      const lookups: number[] = [];
      for (let r = 0; r < rounds + 1; r++) {
        const t = process.hrtime.bigint();
        for (let i = 0; i < keyCount; i++) sink += ring.ownerOf(keys[i])!.id.length;
        if (r > 0) lookups.push(Number(process.hrtime.bigint() - t) / keyCount); // first pass: warm-up
      }
      const lists: number[] = [];
      const listKeys = Math.min(keyCount, 50_000);
      for (let r = 0; r < rounds + 1; r++) {
        const t = process.hrtime.bigint();
        for (let i = 0; i < listKeys; i++) sink += ring.preferenceList(keys[i], 3).length;
        if (r > 0) lists.push(Number(process.hrtime.bigint() - t) / listKeys);
      }
      rows.push([algorithm, String(n), fmt(median(builds), 1), fmt(median(lookups)), fmt(median(lists))]);
    }
  }
  console.log(table(rows, [false, true, true, true, true]));
  if (sink === 42) console.log(''); // keeps the loops from being optimised away
}

main();
