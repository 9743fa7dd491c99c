// GET throughput of the worker against nginx (sendfile) serving the same files from the same folder.
//
//   npm run build && node dist/bench/getVsNginx.js [--quick] [--duration 5] [--warmup 1]
//     [--objects 64] [--sizes 4k,1m] [--conc 16,64] [--targets worker,nginx] [--repeat 1]
//     [--event-loops N] [--wrk-threads 2] [--cpu-prof DIR]
//
// For each size and concurrency, wrk runs against the worker and against nginx in turn (which one
// goes first alternates from one run to the next), each after its own warm-up, and the table gives requests/s,
// payload MiB/s and the ratio worker/nginx. See bench/README.md.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  commandLine, cpuSeconds, fmt, machineLine, MiB, NGINX, onCleanup, parseFlags, parseSize, processTree, requireTools, rotationScript,
  runMain, runWrk, sizeLabel, startNginx, table, WRK, type WrkResult,
} from './lib.js';
import { startBenchWorker } from './workerProc.js';

export const GET_FLAGS = ['quick', 'duration', 'warmup', 'objects', 'sizes', 'conc', 'targets', 'cpu-prof', 'wrk-threads', 'event-loops', 'repeat'];

export interface GetBenchOptions {
  duration: number;
  warmup: number;
  objects: number;
  sizes: number[];
  concurrency: number[];
  targets: Array<'worker' | 'nginx'>;
  cpuProfDir?: string;
  wrkThreads: number;
  /** strata.worker.s3.event.loops for the worker; its default when unset. */
  eventLoops?: number;
  /** Timed runs per cell and target; the table shows the median. */
  repeat: number;
}

export function getOptions(flags: Map<string, string>): GetBenchOptions {
  const quick = flags.has('quick');
  const list = (name: string, dflt: string) => (flags.get(name) ?? dflt).split(',').map((s) => s.trim()).filter(Boolean);
  const targets = list('targets', 'worker,nginx');
  for (const t of targets) if (t !== 'worker' && t !== 'nginx') throw new Error(`--targets: worker and/or nginx, not ${t}`);
  const o: GetBenchOptions = {
    duration: Number(flags.get('duration') ?? (quick ? 2 : 5)),
    warmup: Number(flags.get('warmup') ?? 1),
    objects: Number(flags.get('objects') ?? 64),
    sizes: list('sizes', '4k,1m').map(parseSize),
    concurrency: list('conc', '16,64').map(Number),
    targets: targets as Array<'worker' | 'nginx'>,
    cpuProfDir: flags.get('cpu-prof'),
    wrkThreads: Number(flags.get('wrk-threads') ?? 2),
    eventLoops: flags.has('event-loops') ? Number(flags.get('event-loops')) : undefined,
    repeat: Number(flags.get('repeat') ?? 1),
  };
  for (const [k, v] of [['duration', o.duration], ['warmup', o.warmup], ['objects', o.objects], ['wrk-threads', o.wrkThreads], ['repeat', o.repeat]] as const) {
    if (!Number.isInteger(v) || v < (k === 'warmup' ? 0 : 1) || v > 600) throw new Error(`--${k}: an integer, not ${v}`);
  }
  for (const c of o.concurrency) if (!Number.isInteger(c) || c < 1 || c > 10_000) throw new Error(`--conc: bad value ${c}`);
  return o;
}

type Run = WrkResult & { cpu: number };

interface Cell {
  size: number;
  conc: number;
  /** The median run (by requests/s) of each target. */
  worker?: Run;
  nginx?: Run;
  runs: { worker: Run[]; nginx: Run[] };
}

function median(runs: Run[]): Run | undefined {
  if (runs.length === 0) return undefined;
  const sorted = [...runs].sort((a, b) => a.reqPerSec - b.reqPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

export async function runGetVsNginx(o: GetBenchOptions): Promise<Cell[]> {
  requireTools([
    { name: 'nginx', path: NGINX },
    { name: 'wrk', path: WRK },
  ]);
  console.log('== GET: worker vs nginx (sendfile), same files, loopback ==');
  console.log(machineLine());
  console.log(`command: ${commandLine()}`);
  console.log(
    `plan: ${o.objects} objects of each size (${o.sizes.map(sizeLabel).join(', ')}), concurrency ${o.concurrency.join(', ')}, ` +
      `wrk -t${o.wrkThreads} -c<conc> -d${o.duration}s --latency after a ${o.warmup} s warm-up per target`,
  );

  const scratch = mkdtempSync(join(tmpdir(), 'strata-bench-get-'));
  onCleanup({ sync: () => rmSync(scratch, { recursive: true, force: true }), async: async () => rmSync(scratch, { recursive: true, force: true }) });
  if (o.cpuProfDir) mkdirSync(o.cpuProfDir, { recursive: true });

  const conf: Record<string, string> = { 'strata.worker.s3.access.logging.enabled': 'false' };
  if (o.eventLoops !== undefined) conf['strata.worker.s3.event.loops'] = String(o.eventLoops);
  const w = await startBenchWorker(conf, o.cpuProfDir);
  const bucketDir = join(w.worker.rootUfs, 'data');
  const procs = processTree(w.pid).length;
  console.log(
    `worker: ${w.worker.s3Url} (pid ${w.pid}, ${procs} process${procs > 1 ? 'es: primary + node:cluster children' : ''}; ` +
      `-D ${Object.entries(conf).map(([k, v]) => `${k}=${v}`).join(' -D ')}), bucket folder ${bucketDir}${o.cpuProfDir ? `, CPU profile to ${o.cpuProfDir}` : ''}`,
  );

  // The objects are written straight into the bucket folder: foreign files, served as they are.
  const keysBySize = new Map<number, string[]>();
  const contents = new Map<string, Buffer>();
  for (const size of o.sizes) {
    const dir = `bench-${size}`;
    mkdirSync(join(bucketDir, dir), { recursive: true });
    const keys: string[] = [];
    for (let i = 0; i < o.objects; i++) {
      const key = `${dir}/obj-${String(i).padStart(4, '0')}.bin`;
      const data = randomBytes(size);
      writeFileSync(join(bucketDir, key), data);
      if (i === 0) contents.set(key, data);
      keys.push(key);
    }
    keysBySize.set(size, keys);
  }

  const nginx = await startNginx(w.worker.rootUfs);
  console.log(`nginx:  ${nginx.url} (root ${w.worker.rootUfs})`);

  // Correctness guard: both servers give the very bytes that were written, for one key of each size.
  for (const [key, data] of contents) {
    for (const [name, base] of [['worker', w.worker.s3Url], ['nginx', nginx.url]] as const) {
      const r = await fetch(`${base}/data/${key}`, { signal: AbortSignal.timeout(10_000) });
      const body = Buffer.from(await r.arrayBuffer());
      if (r.status !== 200 || !body.equals(data)) {
        throw new Error(`correctness guard: ${name} GET /data/${key} gave ${r.status} and ${body.length} bytes that ${body.equals(data) ? 'match' : 'do not match'} the ${data.length} written`);
      }
    }
  }
  console.log(`correctness guard: worker and nginx return identical bytes for ${[...contents.keys()].join(', ')}`);

  const cells: Cell[] = [];
  let n = 0;
  for (const size of o.sizes) {
    const script = rotationScript(scratch, keysBySize.get(size)!.map((k) => `/data/${k}`));
    for (const conc of o.concurrency) {
      const cell: Cell = { size, conc, runs: { worker: [], nginx: [] } };
      for (let round = 0; round < o.repeat; round++) {
        // Alternate which server goes first, from one run to the next.
        const order = n++ % 2 === 0 ? o.targets : [...o.targets].reverse();
        for (const target of order) {
          const url = target === 'worker' ? w.worker.s3Url : nginx.url;
          if (o.warmup > 0) await runWrk(url, script, conc, o.warmup, o.wrkThreads);
          // CPU of the whole process tree: the worker's primary and node:cluster children, nginx's master and workers.
          const cpuPid = target === 'worker' ? w.pid : nginx.pid;
          const cpu0 = cpuSeconds(cpuPid);
          const res = await runWrk(url, script, conc, o.duration, o.wrkThreads);
          const used = cpuSeconds(cpuPid) - cpu0;
          // Negative only when processes went away during the run (the benchmark is being stopped).
          const cpu = used >= 0 ? used / res.seconds : NaN;
          cell.runs[target].push({ ...res, cpu });
          process.stdout.write(
            `  ${sizeLabel(size).padStart(7)} c=${String(conc).padEnd(3)} ${target.padEnd(6)} ${fmt(res.reqPerSec).padStart(8)} req/s ` +
              `${fmt((res.reqPerSec * size) / MiB, 1).padStart(8)} MiB/s  p50 ${fmt(res.latency.p50, 2)} ms  p99 ${fmt(res.latency.p99, 2)} ms  ` +
              `cpu ${fmt(cpu * 100)}%${res.non2xx || res.socketErrors ? `  ERRORS: non-2xx ${res.non2xx}, socket ${res.socketErrors}` : ''}\n`,
          );
        }
      }
      cell.worker = median(cell.runs.worker);
      cell.nginx = median(cell.runs.nginx);
      cells.push(cell);
    }
  }

  console.log('');
  console.log(
    `Results (${o.duration} s per run${o.repeat > 1 ? `, median of ${o.repeat} runs` : ''}; MiB/s counts object bytes only; ratio = worker req/s / nginx req/s):`,
  );
  console.log(
    table(
      [
        ['size', 'conc', 'worker req/s', 'worker MiB/s', 'nginx req/s', 'nginx MiB/s', 'worker/nginx'],
        ...cells.map((c) => [
          sizeLabel(c.size),
          String(c.conc),
          fmt(c.worker?.reqPerSec ?? NaN),
          fmt(((c.worker?.reqPerSec ?? NaN) * c.size) / MiB, 1),
          fmt(c.nginx?.reqPerSec ?? NaN),
          fmt(((c.nginx?.reqPerSec ?? NaN) * c.size) / MiB, 1),
          c.worker && c.nginx ? `${fmt(c.worker.reqPerSec / c.nginx.reqPerSec, 2)}x` : 'n/a',
        ]),
      ],
      [false, true, true, true, true, true, true],
    ),
  );
  console.log('');
  console.log('Latency (ms) of the same runs, and server CPU (100% = one core; whole process trees: the worker with its node:cluster children, nginx with its workers):');
  console.log(
    table(
      [
        ['size', 'conc', 'worker p50', 'worker p99', 'worker CPU', 'nginx p50', 'nginx p99', 'nginx CPU', 'CPU per request worker/nginx', 'errors'],
        ...cells.map((c) => [
          sizeLabel(c.size),
          String(c.conc),
          fmt(c.worker?.latency.p50 ?? NaN, 2),
          fmt(c.worker?.latency.p99 ?? NaN, 2),
          c.worker ? `${fmt(c.worker.cpu * 100)}%` : 'n/a',
          fmt(c.nginx?.latency.p50 ?? NaN, 2),
          fmt(c.nginx?.latency.p99 ?? NaN, 2),
          c.nginx ? `${fmt(c.nginx.cpu * 100)}%` : 'n/a',
          c.worker && c.nginx ? `${fmt(c.worker.cpu / c.worker.reqPerSec / (c.nginx.cpu / c.nginx.reqPerSec), 1)}x` : 'n/a',
          String([...c.runs.worker, ...c.runs.nginx].reduce((a, r) => a + r.non2xx + r.socketErrors, 0)),
        ]),
      ],
      [false, true, true, true, true, true, true, true, true, true],
    ),
  );
  const errors = cells.some((c) => [...c.runs.worker, ...c.runs.nginx].some((r) => r.non2xx > 0 || r.socketErrors > 0));
  if (errors) {
    console.log('WARNING: some runs had non-2xx responses or socket errors; their figures are not comparable.');
    process.exitCode = 2;
  }

  await nginx.stop();
  await w.stop();
  if (o.cpuProfDir) console.log(`worker CPU profile written to ${o.cpuProfDir} (summarize: node dist/bench/profileSummary.js ${o.cpuProfDir}/*.cpuprofile)`);
  return cells;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = parseFlags(process.argv.slice(2));
  for (const k of flags.keys()) if (!GET_FLAGS.includes(k)) throw new Error(`unknown flag --${k} (known: ${GET_FLAGS.map((f) => `--${f}`).join(' ')})`);
  const o = getOptions(flags);
  // Bounded: per cell and target a warm-up and a timed run, plus start-up and margins.
  const limit = (o.sizes.length * o.concurrency.length * o.targets.length * o.repeat * (o.duration + o.warmup + 10) + 120) * 1000;
  await runMain(async () => {
    await runGetVsNginx(o);
  }, limit);
}
