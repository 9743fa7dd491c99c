// Where a GET's time goes, without Strata: plain node:http servers (node:cluster, one process per
// core, as the worker runs) that serve the same kind of files in different ways, under the same wrk
// load as getVsNginx.ts. It isolates the cost of the file-system round trips to libuv's thread pool
// from the cost of HTTP and of copying bytes, so a change to the worker's read path can be judged
// before it is written.
//
//   npm run build && node dist/bench/readPaths.js [--duration 5] [--conc 64] [--sizes 4k,1m] [--repeat 1]
//
// Strategies (each answers GET /<file> with the whole file):
//   fs-4hops   open, fstat, pread, close, each through the thread pool (what the worker does per GET)
//   fdcache    a cached descriptor per path, revalidated by a synchronous stat(path) (inode, size,
//              mtime); one pread through the thread pool
//   sync       open, fstat, pread, close as blocking calls on the event loop (no thread pool at all)
//   memory     the bytes from memory: the ceiling of node:http on this machine
// Large files are sent in 1 MiB chunks from a pool of reused buffers (as src/ufs/fileBody.ts does).
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { promisify } from 'node:util';
import {
  commandLine, cpuSeconds, fmt, machineLine, MiB, onCleanup, parseFlags, parseSize, requireTools, rotationScript, runMain,
  runWrk, sizeLabel, sleep, stopChild, table, WRK,
} from './lib.js';
import { freePort } from '../test/helpers/worker.js';

const STRATEGIES = ['fs-4hops', 'fdcache', 'sync', 'memory'] as const;
type Strategy = (typeof STRATEGIES)[number];

// ---- the servers ------------------------------------------------------------------------

const openP = promisify(fs.open);
const fstatP = promisify(fs.fstat);
const readP = promisify(fs.read);
const closeP = promisify(fs.close);
const CHUNK = MiB;
const SMALL = 256 * 1024;
const pool: Buffer[] = [];

async function sendChunks(res: ServerResponse, size: number, readAt: (buf: Buffer, len: number, pos: number) => Promise<number> | number): Promise<void> {
  for (let pos = 0; pos < size; ) {
    const buf = pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
    const n = await readAt(buf, Math.min(CHUNK, size - pos), pos);
    if (n <= 0) throw new Error('short file');
    pos += n;
    await new Promise<void>((ok, fail) => res.write(n === CHUNK ? buf : buf.subarray(0, n), (e) => (e ? fail(e) : ok())));
    if (pool.length < 32) pool.push(buf);
  }
  res.end();
}

function serve(strategy: Strategy, port: number, root: string): void {
  const cache = new Map<string, { fd: number; ino: number; size: number; mtimeMs: number }>();
  const memory = new Map<string, Buffer>();
  const handle = async (url: string, res: ServerResponse) => {
    const path = join(root, url);
    if (strategy === 'memory') {
      let b = memory.get(path);
      if (!b) memory.set(path, (b = fs.readFileSync(path)));
      res.writeHead(200, { 'Content-Length': String(b.length) });
      res.end(b);
      return;
    }
    if (strategy === 'fs-4hops') {
      const fd = await openP(path, 'r');
      try {
        const st = await fstatP(fd);
        res.writeHead(200, { 'Content-Length': String(st.size) });
        if (st.size <= SMALL) {
          const b = Buffer.allocUnsafe(st.size);
          await readP(fd, b, 0, st.size, 0);
          res.end(b);
        } else {
          await sendChunks(res, st.size, async (b, len, pos) => (await readP(fd, b, 0, len, pos)).bytesRead);
        }
      } finally {
        await closeP(fd);
      }
      return;
    }
    if (strategy === 'sync') {
      const fd = fs.openSync(path, 'r');
      try {
        const st = fs.fstatSync(fd);
        res.writeHead(200, { 'Content-Length': String(st.size) });
        if (st.size <= SMALL) {
          const b = Buffer.allocUnsafe(st.size);
          fs.readSync(fd, b, 0, st.size, 0);
          res.end(b);
        } else {
          await sendChunks(res, st.size, (b, len, pos) => fs.readSync(fd, b, 0, len, pos));
        }
      } finally {
        fs.closeSync(fd);
      }
      return;
    }
    // fdcache: a synchronous stat of the path (dentry cache, no thread pool) tells whether the cached
    // descriptor still is this file; the read is the one trip to the thread pool.
    const st = fs.statSync(path);
    let e = cache.get(path);
    if (!e || e.ino !== st.ino || e.size !== st.size || e.mtimeMs !== st.mtimeMs) {
      if (e) fs.close(e.fd, () => undefined);
      e = { fd: fs.openSync(path, 'r'), ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
      cache.set(path, e);
    }
    const fd = e.fd;
    res.writeHead(200, { 'Content-Length': String(st.size) });
    if (st.size <= SMALL) {
      const b = Buffer.allocUnsafe(st.size);
      await readP(fd, b, 0, st.size, 0);
      res.end(b);
    } else {
      await sendChunks(res, st.size, async (b, len, pos) => (await readP(fd, b, 0, len, pos)).bytesRead);
    }
  };
  createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    handle(req.url ?? '/', res).catch(() => {
      if (res.headersSent) res.destroy();
      else res.writeHead(404, { 'Content-Length': '0' }).end();
    });
  }).listen(port, '127.0.0.1');
}

// ---- the driver -------------------------------------------------------------------------

async function startServer(strategy: Strategy, root: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [self, '--serve', strategy, '--port', String(port), '--root', root], { stdio: ['ignore', 'inherit', 'inherit'] });
  const remove = onCleanup({ sync: () => child.kill('SIGKILL'), async: () => stopChild(child, 'SIGTERM', 3000) });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await fetch(`${url}/missing`).then(() => true, () => false))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`${strategy} server did not start`);
    await sleep(50);
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      remove();
      await stopChild(child, 'SIGTERM', 3000);
    },
  };
}

async function main(flags: Map<string, string>): Promise<void> {
  requireTools([{ name: 'wrk', path: WRK }]);
  const duration = Number(flags.get('duration') ?? 5);
  const conc = Number(flags.get('conc') ?? 64);
  const repeat = Number(flags.get('repeat') ?? 1);
  const sizes = (flags.get('sizes') ?? '4k,1m').split(',').map(parseSize);
  console.log('== Read paths: plain node:http, one process per core, the same files served four ways ==');
  console.log(machineLine());
  console.log(`command: ${commandLine()}`);
  const root = fs.mkdtempSync(join(tmpdir(), 'strata-bench-paths-'));
  onCleanup({ sync: () => fs.rmSync(root, { recursive: true, force: true }), async: async () => fs.rmSync(root, { recursive: true, force: true }) });
  const scripts = new Map<number, string>();
  for (const size of sizes) {
    const paths: string[] = [];
    for (let i = 0; i < 64; i++) {
      const name = `f${size}-${i}`;
      fs.writeFileSync(join(root, name), randomBytes(size));
      paths.push(`/${name}`);
    }
    scripts.set(size, rotationScript(root, paths));
  }
  const rows: string[][] = [['size', 'conc', ...STRATEGIES.map((s) => `${s} req/s`), ...STRATEGIES.map((s) => `${s} CPU`)]];
  const results = new Map<string, Array<{ rps: number; cpu: number }>>();
  for (let round = 0; round < repeat; round++) {
    for (const strategy of STRATEGIES) {
      const server = await startServer(strategy, root);
      try {
        for (const size of sizes) {
          await runWrk(server.url, scripts.get(size)!, conc, 1);
          const cpu0 = cpuSeconds(server.pid);
          const r = await runWrk(server.url, scripts.get(size)!, conc, duration);
          const cpu = (cpuSeconds(server.pid) - cpu0) / r.seconds;
          const key = `${size}/${strategy}`;
          results.set(key, [...(results.get(key) ?? []), { rps: r.reqPerSec, cpu }]);
          console.log(`  ${sizeLabel(size).padStart(7)} ${strategy.padEnd(9)} ${fmt(r.reqPerSec).padStart(8)} req/s  cpu ${fmt(cpu * 100)}%${r.non2xx || r.socketErrors ? '  (errors)' : ''}`);
        }
      } finally {
        await server.stop();
      }
    }
  }
  const med = (key: string) => {
    const runs = [...(results.get(key) ?? [])].sort((a, b) => a.rps - b.rps);
    return runs[Math.floor((runs.length - 1) / 2)];
  };
  for (const size of sizes) {
    rows.push([
      sizeLabel(size),
      String(conc),
      ...STRATEGIES.map((s) => fmt(med(`${size}/${s}`)?.rps ?? NaN)),
      ...STRATEGIES.map((s) => `${fmt((med(`${size}/${s}`)?.cpu ?? NaN) * 100)}%`),
    ]);
  }
  console.log('');
  console.log(`Results (${duration} s per run${repeat > 1 ? `, median of ${repeat}` : ''}; ${availableParallelism()} server processes; CPU: whole process tree, 100% = one core):`);
  console.log(table(rows, rows[0].map((_, i) => i > 0)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = parseFlags(process.argv.slice(2));
  const strategy = flags.get('serve') as Strategy | undefined;
  if (strategy) {
    // A server process: the primary forks one child per core; children serve.
    if (cluster.isPrimary) {
      for (let i = 0; i < availableParallelism(); i++) cluster.fork();
      process.on('SIGTERM', () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
        process.exit(0);
      });
    } else {
      serve(strategy, Number(flags.get('port')), flags.get('root')!);
    }
  } else {
    for (const k of flags.keys()) if (!['duration', 'conc', 'sizes', 'repeat'].includes(k)) throw new Error(`unknown flag --${k}`);
    const sizes = (flags.get('sizes') ?? '4k,1m').split(',').length;
    const limit = (Number(flags.get('repeat') ?? 1) * STRATEGIES.length * sizes * (Number(flags.get('duration') ?? 5) + 12) + 60) * 1000;
    await runMain(() => main(flags), limit);
  }
}
