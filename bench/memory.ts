// Memory of the worker while it streams a huge object in and out: no object is ever held whole.
//
//   npm run build && node dist/bench/memory.js [--memory-size 2g] [--rss-limit 200m] [--cpu-prof DIR]
//
// PUTs a 2 GiB object (plain http.request with Content-Length, no auth, the body generated on the fly
// from a seeded AES-CTR keystream) and GETs it back (streamed, length and MD5 checked as it arrives),
// sampling the worker's VmRSS from /proc/<pid>/status every 100 ms. Prints the peak RSS of each
// phase and the throughput of each direction. Target: the worker stays under 200 MiB.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import {
  commandLine, fmt, machineLine, MiB, parseFlags, parseSize, processTree, readProcMemory, runMain, sampleRss, sizeLabel, table,
} from './lib.js';
import { startBenchWorker } from './workerProc.js';

export const MEMORY_FLAGS = ['memory-size', 'rss-limit', 'cpu-prof', 'quick', 'memory-event-loops'];

export interface MemoryOptions {
  size: number;
  rssLimit: number;
  cpuProfDir?: string;
  /** strata.worker.s3.event.loops for the worker (default: the worker's own default). */
  eventLoops?: number;
}

export function memoryOptions(flags: Map<string, string>): MemoryOptions {
  const o = {
    size: parseSize(flags.get('memory-size') ?? '2g'),
    rssLimit: parseSize(flags.get('rss-limit') ?? '200m'),
    cpuProfDir: flags.get('cpu-prof'),
    eventLoops: flags.has('memory-event-loops') ? Number(flags.get('memory-event-loops')) : undefined,
  };
  if (o.size < 1 || o.size > 64 * 1024 * MiB) throw new Error('--memory-size: between 1 byte and 64 GiB');
  return o;
}

const CHUNK = 1024 * 1024;

/** A deterministic pseudo-random stream of `size` bytes that hashes what it hands out. */
function generated(size: number, md5: ReturnType<typeof createHash>): Readable {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(CHUNK);
  let left = size;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(CHUNK, left);
      const chunk = cipher.update(n === CHUNK ? zeros : zeros.subarray(0, n));
      left -= n;
      md5.update(chunk);
      this.push(chunk);
    },
  });
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((ok, fail) => {
    let s = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (s += d));
    res.on('end', () => ok(s));
    res.on('error', fail);
  });
}

const IDLE_MS = 60_000;

async function put(url: string, size: number): Promise<{ md5: string; etag: string; seconds: number }> {
  const md5 = createHash('md5');
  const started = process.hrtime.bigint();
  const req = request(url, {
    method: 'PUT',
    headers: { 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' },
  });
  req.setTimeout(IDLE_MS, () => req.destroy(new Error(`PUT: no progress for ${IDLE_MS / 1000} s`)));
  const response = new Promise<IncomingMessage>((ok, fail) => {
    req.once('response', ok);
    req.once('error', fail);
  });
  // An early answer (an error before the body is read) ends the upload instead of hanging it.
  response.then((res) => res.statusCode !== 200 && req.destroy()).catch(() => undefined);
  const sent = pipeline(generated(size, md5), req);
  const res = await response;
  const text = await readAll(res);
  if (res.statusCode !== 200) throw new Error(`PUT ${url}: ${res.statusCode}\n${text}`);
  await sent;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { md5: md5.digest('hex'), etag: String(res.headers.etag ?? '').replaceAll('"', ''), seconds };
}

async function get(url: string): Promise<{ md5: string; length: number; seconds: number }> {
  const md5 = createHash('md5');
  const started = process.hrtime.bigint();
  const res = await new Promise<IncomingMessage>((ok, fail) => {
    const req = request(url, { method: 'GET' });
    req.setTimeout(IDLE_MS, () => req.destroy(new Error(`GET: no progress for ${IDLE_MS / 1000} s`)));
    req.once('response', ok);
    req.once('error', fail);
    req.end();
  });
  if (res.statusCode !== 200) throw new Error(`GET ${url}: ${res.statusCode}\n${await readAll(res)}`);
  let length = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    length += chunk.length;
    md5.update(chunk);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { md5: md5.digest('hex'), length, seconds };
}

export async function runMemory(o: MemoryOptions): Promise<{ ok: boolean }> {
  console.log(`== Memory: ${sizeLabel(o.size)} PUT and GET through the worker, RSS sampled every 100 ms ==`);
  console.log(machineLine());
  console.log(`command: ${commandLine()}`);
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });
  const w = await startBenchWorker({
    'strata.worker.s3.access.logging.enabled': 'false',
    ...(o.eventLoops ? { 'strata.worker.s3.event.loops': String(o.eventLoops) } : {}),
  }, o.cpuProfDir);
  const url = `${w.worker.s3Url}/data/bench-memory/object.bin`;
  const startTree = processTree(w.pid);
  const start = sampleRss(w.pid).stop();
  console.log(
    `worker: ${w.worker.s3Url} (pid ${w.pid}; ${startTree.length} process${startTree.length > 1 ? 'es: the primary and its node:cluster children' : ''}), ` +
      `RSS at start: largest process ${fmt(start.processKiB / 1024, 1)} MiB, all together ${fmt(start.treeKiB / 1024, 1)} MiB`,
  );

  const putSampler = sampleRss(w.pid);
  let p: Awaited<ReturnType<typeof put>>;
  try {
    p = await put(url, o.size);
  } finally {
    putSampler.stop();
  }
  const putPeak = putSampler.stop();
  console.log(`PUT: ${fmt(p.seconds, 2)} s, ${fmt(o.size / MiB / p.seconds, 1)} MiB/s, ETag ${p.etag} (MD5 of the bytes sent ${p.md5})`);
  if (p.etag !== p.md5) throw new Error(`PUT: the ETag ${p.etag} is not the MD5 of the bytes sent (${p.md5})`);

  const getSampler = sampleRss(w.pid);
  let g: Awaited<ReturnType<typeof get>>;
  try {
    g = await get(url);
  } finally {
    getSampler.stop();
  }
  const getPeak = getSampler.stop();
  console.log(`GET: ${fmt(g.seconds, 2)} s, ${fmt(o.size / MiB / g.seconds, 1)} MiB/s, ${g.length} bytes, MD5 ${g.md5}`);
  if (g.length !== o.size) throw new Error(`GET: ${g.length} bytes, expected ${o.size}`);
  if (g.md5 !== p.md5) throw new Error(`GET: MD5 ${g.md5} differs from the one sent (${p.md5})`);
  // The kernel's own high-water mark of each process covers the moments between samples.
  const hwm = Math.max(...processTree(w.pid).map((pid) => readProcMemory(pid)?.hwmKiB ?? 0));
  await w.stop();

  const limitMiB = o.rssLimit / MiB;
  const mib = (kib: number) => fmt(kib / 1024, 1);
  console.log('');
  console.log(
    table(
      [
        ['direction', 'size', 'seconds', 'MiB/s', 'peak RSS, one process (MiB)', 'peak RSS, all processes (MiB)'],
        ['(idle)', '', '', '', mib(start.processKiB), mib(start.treeKiB)],
        ['PUT', sizeLabel(o.size), fmt(p.seconds, 2), fmt(o.size / MiB / p.seconds, 1), mib(putPeak.processKiB), mib(putPeak.treeKiB)],
        ['GET', sizeLabel(o.size), fmt(g.seconds, 2), fmt(o.size / MiB / g.seconds, 1), mib(getPeak.processKiB), mib(getPeak.treeKiB)],
      ],
      [false, true, true, true, true, true],
    ),
  );
  const peak = Math.max(putPeak.processKiB, getPeak.processKiB, hwm) / 1024;
  console.log(`largest VmHWM (kernel high-water mark) of any worker process: ${mib(hwm)} MiB`);
  const ok = peak < limitMiB;
  console.log(
    ok
      ? `PASS: every worker process stayed under ${fmt(limitMiB)} MiB RSS (peak ${fmt(peak, 1)} MiB)`
      : `FAIL: a worker process went over ${fmt(limitMiB)} MiB RSS (peak ${fmt(peak, 1)} MiB)`,
  );
  if (!ok) process.exitCode = 2;
  return { ok };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = parseFlags(process.argv.slice(2));
  for (const k of flags.keys()) if (!MEMORY_FLAGS.includes(k)) throw new Error(`unknown flag --${k} (known: ${MEMORY_FLAGS.map((f) => `--${f}`).join(' ')})`);
  const o = memoryOptions(flags);
  // Bounded: even at 10 MiB/s each way, plus start-up.
  await runMain(async () => {
    await runMemory(o);
  }, (120 + (2 * o.size) / (10 * MiB)) * 1000);
}
