// What the page cache buys: GETs from an S3 mount whose store is far away (s3rver behind a proxy
// that adds a fixed latency to every request), cold (first read: from the store) and warm (from the
// worker's cache), against nginx serving the same bytes from local disk in the same run.
//
//   npm run build && node dist/bench/cacheGet.js [--latency 20] [--conc 16] [--duration 5]
//     [--cold-1m 128] [--cold-16m 16] [--warm-1m 64] [--warm-16m 8] [--ttfb-requests 300]
//
// Cold and warm speed come from one client (curl --parallel, keep-alive, `--conc` requests in flight)
// reading a set of objects never read before once (cold: from the store), then once again (warm:
// from the cache). Warm against nginx comes from wrk over other objects read once before, and
// against nginx serving the same bytes from a local folder.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3rver, S3RVER_KEY } from '../test/helpers/s3rver.js';
import { startLatencyProxy } from './latencyProxy.js';
import {
  commandLine, CURL, curlAll, type CurlPass, fmt, KiB, machineLine, MiB, NGINX, onCleanup, parseFlags, requireTools, rotationScript, runMain, runWrk, startNginx,
  table, WRK, type WrkResult,
} from './lib.js';
import { startBenchWorker } from './workerProc.js';

const FLAGS = ['latency', 'conc', 'duration', 'cold-1m', 'cold-16m', 'warm-1m', 'warm-16m', 'ttfb-requests', 'wrk-threads'];
const BUCKET = 'remote';

interface Options {
  latencyMs: number;
  conc: number;
  duration: number;
  cold1m: number;
  cold16m: number;
  warm1m: number;
  warm16m: number;
  ttfbRequests: number;
  wrkThreads: number;
}

/** Time to the first byte of the answer for `n` GETs one after another on one keep-alive connection. */
async function timeToFirstByte(base: string, paths: string[], n: number): Promise<{ p50: number; p99: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const started = process.hrtime.bigint();
      await new Promise<void>((resolve, reject) => {
        const req = get(`${base}${paths[i % paths.length]}`, { agent }, (res) => {
          res.once('data', () => times.push(Number(process.hrtime.bigint() - started) / 1e6));
          res.on('end', resolve);
          res.on('error', reject);
          res.resume();
        });
        req.on('error', reject);
        req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
      });
    }
  } finally {
    agent.destroy();
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(times.length * 0.5)], p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] };
}

/** Requests per second of a curl pass that must have succeeded whole. */
function curlRate(pass: CurlPass, what: string): number {
  if (pass.failures) throw new Error(`${what}: ${pass.failures} requests failed`);
  return pass.ok / pass.seconds;
}

/** Reads every path once, `conc` at a time (to make objects warm). */
async function readAll(base: string, paths: string[], conc: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: conc });
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++];
      await new Promise<void>((resolve, reject) => {
        const req = get(`${base}${path}`, { agent }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`GET ${path}: ${res.statusCode}`));
          res.on('end', resolve);
          res.resume();
        });
        req.on('error', reject);
        req.setTimeout(60_000, () => req.destroy(new Error(`GET ${path}: no answer within 60 s`)));
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: conc }, one));
  } finally {
    agent.destroy();
  }
}

function check(r: WrkResult, what: string): WrkResult {
  if (r.non2xx || r.socketErrors) throw new Error(`${what}: ${r.non2xx} non-2xx answers, ${r.socketErrors} socket errors\n${r.raw}`);
  return r;
}

async function run(o: Options): Promise<void> {
  requireTools([
    { name: 'nginx', path: NGINX },
    { name: 'wrk', path: WRK },
    { name: 'curl', path: CURL },
  ]);
  console.log('== Cache: cold and warm GET from an S3 mount behind added latency, against nginx from local disk ==');
  console.log(machineLine());
  console.log(`command: ${commandLine()}`);

  const scratch = mkdtempSync(join(tmpdir(), 'strata-bench-cache-'));
  onCleanup({ sync: () => rmSync(scratch, { recursive: true, force: true }), async: async () => rmSync(scratch, { recursive: true, force: true }) });
  const nginxRoot = join(scratch, 'www');
  mkdirSync(join(nginxRoot, BUCKET), { recursive: true });

  const store = await startS3rver(['store']);
  onCleanup({ sync: () => store.process.kill('SIGKILL'), async: () => store.stop() });
  const proxy = await startLatencyProxy(store.endpoint, o.latencyMs);
  onCleanup({ sync: () => undefined, async: () => proxy.close() });
  console.log(`store: s3rver ${store.endpoint}, seen through ${proxy.url} which adds ${o.latencyMs} ms to every request`);

  // Objects go straight into the store (not through the proxy), and the same bytes into nginx's folder.
  const direct = new S3Client({
    endpoint: store.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  const sets: Record<string, { size: number; count: number; keys: string[] }> = {
    'cold-1m': { size: MiB, count: o.cold1m, keys: [] },
    'cold-16m': { size: 16 * MiB, count: o.cold16m, keys: [] },
    'warm-1m': { size: MiB, count: o.warm1m, keys: [] },
    'warm-16m': { size: 16 * MiB, count: o.warm16m, keys: [] },
    'warm-4k': { size: 4 * KiB, count: 64, keys: [] },
    'cold-4k': { size: 4 * KiB, count: o.ttfbRequests, keys: [] },
  };
  let written = 0;
  for (const [name, set] of Object.entries(sets)) {
    const body = randomBytes(set.size);
    for (let i = 0; i < set.count; i++) {
      const key = `${name}/obj-${String(i).padStart(4, '0')}.bin`;
      body.writeUInt32BE(i, 0); // every object differs
      await direct.send(new PutObjectCommand({ Bucket: 'store', Key: key, Body: body }));
      mkdirSync(join(nginxRoot, BUCKET, name), { recursive: true });
      writeFileSync(join(nginxRoot, BUCKET, key), body);
      set.keys.push(`/${BUCKET}/${key}`);
      written += set.size;
    }
  }
  direct.destroy();
  console.log(`objects: ${Object.entries(sets).map(([n, s]) => `${s.count} x ${n}`).join(', ')} (${fmt(written / MiB)} MiB in the store)`);

  const conf = {
    'strata.worker.s3.access.logging.enabled': 'false',
    'strata.worker.page.store.sizes': '4GB',
  };
  const w = await startBenchWorker(conf);
  const options = { ...store.mountOptions, 'underfs.s3.endpoint': proxy.url };
  const args = ['mount', 'add', '--path', `/${BUCKET}`, '--ufs-uri', 's3://store/'];
  for (const [k, v] of Object.entries(options)) args.push('--option', `${k}=${v}`);
  const mounted = await w.worker.cli(...args);
  if (mounted.code !== 0) throw new Error(`mount add failed: ${mounted.stderr}`);
  const nginx = await startNginx(nginxRoot);
  console.log(`worker: ${w.worker.s3Url} (-D ${Object.entries(conf).map(([k, v]) => `${k}=${v}`).join(' -D ')}); nginx: ${nginx.url}`);
  console.log(`load: wrk -t${o.wrkThreads} -c${o.conc} -d${o.duration}s`);

  const rows: string[][] = [];
  const results: Record<string, number> = {};
  for (const size of ['1m', '16m'] as const) {
    const label = size === '1m' ? '1 MiB' : '16 MiB';
    const bytes = size === '1m' ? MiB : 16 * MiB;
    // Cold, then warm: the same objects read once each by the same client, first from the store, then from the cache.
    const coldKeys = sets[`cold-${size}`].keys;
    const urls = coldKeys.map((k) => `${w.worker.s3Url}${k}`);
    const cold = curlRate(await curlAll(scratch, urls, o.conc), `cold ${label}`);
    // Warm: the same pass three times over (the first also settles the memory tier); the best counts.
    let warmPass = 0;
    for (let i = 0; i < 3; i++) warmPass = Math.max(warmPass, curlRate(await curlAll(scratch, [...urls, ...urls, ...urls], o.conc), `warm ${label}`));
    // Warm under wrk, against nginx serving the same bytes from local disk.
    const warmKeys = sets[`warm-${size}`].keys;
    await readAll(w.worker.s3Url, warmKeys, o.conc);
    const script = rotationScript(scratch, warmKeys);
    const warm = check(await runWrk(w.worker.s3Url, script, o.conc, o.duration, o.wrkThreads), `warm ${label}`);
    const local = check(await runWrk(nginx.url, script, o.conc, o.duration, o.wrkThreads), `nginx ${label}`);
    results[`speedup-${size}`] = warmPass / cold;
    results[`nginx-${size}`] = warm.reqPerSec / local.reqPerSec;
    rows.push([label, fmt(cold, 1), fmt(warmPass, 1), `${fmt(results[`speedup-${size}`], 1)}x`, fmt(warm.reqPerSec), fmt(local.reqPerSec), fmt((warm.reqPerSec * bytes) / MiB), `${fmt(results[`nginx-${size}`], 2)}x`]);
  }
  // 4 KiB: throughput warm against nginx, and time to first byte cold, warm and from nginx.
  const small = sets['warm-4k'].keys;
  await readAll(w.worker.s3Url, small, o.conc);
  const script4k = rotationScript(scratch, small);
  const warm4k = check(await runWrk(w.worker.s3Url, script4k, o.conc, o.duration, o.wrkThreads), 'warm 4 KiB');
  const nginx4k = check(await runWrk(nginx.url, script4k, o.conc, o.duration, o.wrkThreads), 'nginx 4 KiB');
  results['nginx-4k'] = warm4k.reqPerSec / nginx4k.reqPerSec;
  rows.push(['4 KiB', '', '', '', fmt(warm4k.reqPerSec), fmt(nginx4k.reqPerSec), fmt((warm4k.reqPerSec * 4 * KiB) / MiB), `${fmt(results['nginx-4k'], 2)}x`]);

  const ttfbCold = await timeToFirstByte(w.worker.s3Url, sets['cold-4k'].keys, sets['cold-4k'].keys.length);
  const ttfbWarm = await timeToFirstByte(w.worker.s3Url, small, o.ttfbRequests);
  const ttfbNginx = await timeToFirstByte(nginx.url, small, o.ttfbRequests);

  console.log('');
  console.log('cold: one pass over objects never read (curl --parallel, keep-alive, same concurrency); warm: the same objects again; then wrk over warm objects against nginx:');
  console.log(table(
    [['size', 'cold req/s', 'warm req/s', 'warm/cold', 'wrk warm req/s', 'nginx req/s', 'warm MiB/s', 'warm/nginx'], ...rows],
    [false, true, true, true, true, true, true, true],
  ));
  console.log('');
  console.log(`time to first byte, 4 KiB, one request at a time: cold ${fmt(ttfbCold.p50, 2)} ms p50 / ${fmt(ttfbCold.p99, 2)} ms p99; ` +
    `warm ${fmt(ttfbWarm.p50, 2)} / ${fmt(ttfbWarm.p99, 2)} ms; nginx ${fmt(ttfbNginx.p50, 2)} / ${fmt(ttfbNginx.p99, 2)} ms`);
  console.log(`store requests through the latency proxy: ${proxy.requests()}`);
  console.log(`targets: warm/cold >= 20x at 1 MiB (${fmt(results['speedup-1m'], 1)}x); warm >= 0.75x nginx at 1 MiB (${fmt(results['nginx-1m'], 2)}x) and >= 0.4x at 4 KiB (${fmt(results['nginx-4k'], 2)}x)`);
  await nginx.stop();
  await w.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = parseFlags(process.argv.slice(2));
  for (const k of flags.keys()) if (!FLAGS.includes(k)) throw new Error(`unknown flag --${k} (known: ${FLAGS.map((f) => `--${f}`).join(' ')})`);
  const num = (name: string, d: number) => Number(flags.get(name) ?? d);
  const o: Options = {
    latencyMs: num('latency', 20),
    conc: num('conc', 16),
    duration: num('duration', 5),
    cold1m: num('cold-1m', 128),
    cold16m: num('cold-16m', 16),
    warm1m: num('warm-1m', 64),
    warm16m: num('warm-16m', 8),
    ttfbRequests: num('ttfb-requests', 300),
    wrkThreads: num('wrk-threads', 2),
  };
  await runMain(() => run(o), (o.duration * 8 + 600) * 1000);
}
