// Speed of the hash ring (src/cluster/ring.ts): build time, ownerOf and preferenceList(3) per call,
// for 3, 10 and 100 workers and both algorithms. No servers; one process, one core.
//
//   npm run build && node dist/bench/ringLookup.js [--workers 3,10,100] [--virtual-nodes 2000] [--keys 200000] [--rounds 5]
//
// Paths look like S3 object paths (`/bucket-3/data/17/part-123456.parquet`, about 40 characters); each
// figure is the median of --rounds passes over --keys distinct paths (so the CPU caches see a spread of
// keys, not one). Build time is the median of --rounds builds.
import { buildRing, type RingAlgorithm, type RingMember } from '../src/cluster/ring.js';
import { fmt, machineLine, parseFlags, table } from './lib.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const flags = parseFlags(process.argv.slice(2));
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
