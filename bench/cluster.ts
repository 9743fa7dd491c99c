// Three workers on this machine, GET of 1 MiB objects at concurrency 32 through four paths:
//   (a) the owner directly, (b) a non-owner in proxy mode (and (b0): one with its proxy cache off),
//   (c) a non-owner in redirect mode with the 307 followed (undici), (d) nginx Pattern C (hash $uri
//   consistent, NGINX_KETAMA ring), on shared cores and with nginx on a core of its own.
// Prints, from one run, each path's throughput as a ratio to (a) and the workers' CPU-seconds per
// GiB served (the whole process trees of the three workers; nginx's apart). The client is wrk for
// (a), (b), (d) (it leaves the cores to the servers), and undici in this process for (c) (wrk cannot
// follow a redirect), compared with (a) measured by the same undici client. The paths take turns
// for --rounds rounds; each path's figures are summed over them.
//
//   npm run build && node dist/bench/cluster.js [--duration 5] [--warmup 1] [--conc 32] [--objects 32] [--event-loops 1] [--rounds 3]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';
import { addressOf, type Cluster, ringOf, startCluster } from '../test/helpers/cluster.js';
import { startNginx } from '../test/helpers/nginx.js';
import { freePort, type RunningWorker } from '../test/helpers/worker.js';
import { commandLine, cpuSeconds, fmt, machineLine, MiB, NGINX, onCleanup, parseFlags, pinTree, requireTools, rotationScript, runMain, runWrk, table, TASKSET, WRK } from './lib.js';

const GiB = 1024 * MiB;
const SIZE = MiB;

interface Load {
  bytes: number;
  requests: number;
  errors: number;
  seconds: number;
}

/** `conc` loops of GET for `seconds`; with `follow`, a 307 is followed to its Location. */
async function load(urls: string[], conc: number, seconds: number, follow: boolean): Promise<Load> {
  const agent = new Agent({ connections: conc, keepAliveTimeout: 30_000 });
  const out: Load = { bytes: 0, requests: 0, errors: 0, seconds };
  let next = 0;
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(Array.from({ length: conc }, async () => {
    while (Date.now() < deadline) {
      let url = urls[next++ % urls.length];
      try {
        let r = await request(url, { dispatcher: agent });
        if (follow && r.statusCode === 307) {
          url = String(r.headers.location);
          await r.body.dump();
          r = await request(url, { dispatcher: agent });
        }
        if (r.statusCode !== 200) out.errors++;
        for await (const chunk of r.body) out.bytes += (chunk as Buffer).length;
        out.requests++;
      } catch {
        out.errors++;
      }
    }
  }));
  out.seconds = (Date.now() - started) / 1000;
  await agent.close();
  return out;
}

function cpuOf(pids: number[]): number {
  return pids.reduce((s, p) => s + cpuSeconds(p), 0);
}

/** Keys whose owner (on worker 0's ring) is worker 0, written as 1 MiB files into the shared folder. */
async function writeOwnedObjects(cluster: Cluster, n: number): Promise<string[]> {
  const w0 = cluster.workers[0];
  const keys: string[] = [];
  mkdirSync(join(cluster.shared, 'data', 'bench'), { recursive: true });
  for (let i = 0; keys.length < n; i++) {
    const key = `bench/obj-${i}`;
    if ((await ringOf(w0, `/data/${key}`)).owner !== addressOf(w0)) continue;
    writeFileSync(join(cluster.shared, 'data', key), randomBytes(SIZE));
    keys.push(key);
  }
  return keys;
}

function guard(c: Cluster): void {
  onCleanup({
    sync: () => {
      for (const w of c.workers) if (w.process.exitCode === null) w.process.kill('SIGKILL');
    },
    async: () => c.stop(),
  });
}

async function main(flags: Map<string, string>): Promise<void> {
  requireTools([{ name: 'nginx', path: NGINX }, { name: 'wrk', path: WRK }]);
  const seconds = Number(flags.get('duration') ?? 5);
  const warmup = Number(flags.get('warmup') ?? 1);
  const conc = Number(flags.get('conc') ?? 32);
  const objects = Number(flags.get('objects') ?? 32);
  const loops = flags.get('event-loops') ?? '1';
  const rounds = Number(flags.get('rounds') ?? 3);
  console.log('== Cluster: GET 1 MiB through the owner, a proxy, a 307, and nginx Pattern C ==');
  console.log(machineLine());
  console.log(`command: ${commandLine()}`);
  const base = { 'strata.worker.s3.event.loops': loops, 'strata.worker.s3.access.logging.enabled': 'false' };
  // gen: the load generator, which also groups a path with the (a) it is compared with.
  const results: Array<{ path: string; gen: string; r: Load; cpu: number; nginxCpu?: number }> = [];
  const tmp = mkdtempSync(join(tmpdir(), 'strata-bench-cluster-'));
  onCleanup({ sync: () => rmSync(tmp, { recursive: true, force: true }), async: async () => rmSync(tmp, { recursive: true, force: true }) });
  /** One path: wrk (light, so the workers get the cores) or, for the 307, undici following it. */
  const measure = async (name: string, base: string, keys: string[], workers: RunningWorker[], gen: 'wrk' | 'undici' | 'wrk cpu0', nginxPid?: number) => {
    const urls = keys.map((k) => `${base}/data/${k}`);
    const script = rotationScript(tmp, keys.map((k) => `/data/${k}`));
    const run = async (secs: number): Promise<Load> => {
      if (gen === 'undici') return load(urls, conc, secs, true);
      const w = await runWrk(base, script, conc, secs, 2, gen === 'wrk cpu0' ? '0' : undefined);
      return { bytes: w.requests * SIZE, requests: w.requests, errors: w.non2xx + w.socketErrors, seconds: w.seconds };
    };
    await run(warmup);
    const pids = workers.map((w) => w.process.pid!);
    const cpu0 = cpuOf(pids);
    const n0 = nginxPid ? cpuSeconds(nginxPid) : 0;
    const r = await run(seconds);
    const cpu = cpuOf(pids) - cpu0;
    const nginxCpu = nginxPid ? cpuSeconds(nginxPid) - n0 : undefined;
    // Rounds add up: bytes, seconds and CPU of one path are summed over them.
    const prev = results.find((x) => x.path === name && x.gen === gen);
    if (prev) {
      for (const k of ['bytes', 'requests', 'errors', 'seconds'] as const) prev.r[k] += r[k];
      prev.cpu += cpu;
      if (nginxCpu !== undefined) prev.nginxCpu = (prev.nginxCpu ?? 0) + nginxCpu;
    } else {
      results.push({ path: name, gen, r, cpu, nginxCpu });
    }
    console.log(`  ${name.padEnd(34)} ${gen.padEnd(6)} ${fmt(r.bytes / MiB / r.seconds).padStart(6)} MiB/s  ${r.errors ? `${r.errors} errors` : ''}`);
  };

  // Proxy-mode cluster on the NGINX_KETAMA ring: paths (a), (b), (d).
  // The third worker proxies without the proxy cache: every byte crosses it.
  const proxy = await startCluster({
    n: 3,
    conf: { ...base, 'strata.worker.ring.algorithm': 'NGINX_KETAMA' },
    perWorker: [{}, {}, { 'strata.worker.s3.proxy.cache.size': '0' }],
  });
  guard(proxy);
  const keys = await writeOwnedObjects(proxy, objects);
  const [owner, other, bare] = proxy.workers;
  const port = await freePort();
  const lb = await owner.cli('lb', 'nginx', '--listen', `127.0.0.1:${port}`);
  if (lb.code !== 0) throw new Error(`strata lb nginx failed: ${lb.stderr}`);
  // STRATA_BENCH_NGINX_EXTRA: directives added to the server block (e.g. proxy_buffer_size 256k;).
  const extra = process.env.STRATA_BENCH_NGINX_EXTRA;
  const nginx = await startNginx(port, extra ? lb.stdout.replace('merge_slashes off;', `merge_slashes off;\n    ${extra}`) : lb.stdout);
  onCleanup({ sync: () => undefined, async: () => nginx.stop() });
  const pinning = cpus().length >= 2 && existsSync(TASKSET);
  const all = cpus().map((_, i) => i).join(',');
  // The paths take turns, round after round, so that a change in the machine's load falls on all.
  for (let round = 1; round <= rounds; round++) {
    if (rounds > 1) console.log(`round ${round} of ${rounds}`);
    await measure('(a) owner directly', owner.s3Url, keys, proxy.workers, 'wrk');
    await measure('(b0) same, proxy cache off', bare.s3Url, keys, proxy.workers, 'wrk');
    await measure('(b) non-owner, proxy', other.s3Url, keys, proxy.workers, 'wrk');
    await measure('(d) nginx Pattern C', nginx.url, keys, proxy.workers, 'wrk', nginx.pid);
    // The load balancer on a machine of its own, modelled on this one: the workers and wrk on CPU 0,
    // nginx alone on CPU 1; (a) again under the same pinning is the baseline.
    if (pinning) {
      for (const w of proxy.workers) pinTree(w.process.pid!, '0');
      pinTree(nginx.pid, '1');
      await measure('(a) owner directly', owner.s3Url, keys, proxy.workers, 'wrk cpu0');
      await measure('(d) nginx Pattern C, own core', nginx.url, keys, proxy.workers, 'wrk cpu0', nginx.pid);
      for (const pid of [...proxy.workers.map((w) => w.process.pid!), nginx.pid]) pinTree(pid, all);
    }
  }
  await nginx.stop();
  await proxy.stop();

  // Redirect-mode cluster: path (c), and (a) again with the same load generator as its baseline.
  const redirect = await startCluster({ n: 3, conf: { ...base, 'strata.worker.s3.redirect.enabled': 'true' } });
  guard(redirect);
  const rkeys = await writeOwnedObjects(redirect, objects);
  for (let round = 1; round <= rounds; round++) {
    await measure('(a) owner directly', redirect.workers[0].s3Url, rkeys, redirect.workers, 'undici');
    await measure('(c) non-owner, 307 followed', redirect.workers[1].s3Url, rkeys, redirect.workers, 'undici');
  }
  await redirect.stop();

  const perGiB = (x: (typeof results)[number]) => x.cpu / (x.r.bytes / GiB);
  const baseline = (gen: string) => results.find((x) => x.path.startsWith('(a)') && x.gen === gen)!;
  const rows = [['path', 'client', 'MiB/s', 'vs (a)', 'errors', 'worker CPU-s/GiB', 'vs (a)', 'nginx CPU-s/GiB']];
  for (const x of [...results].sort((p, q) => (p.path + p.gen < q.path + q.gen ? -1 : 1))) {
    const a = baseline(x.gen);
    rows.push([
      x.path,
      x.gen,
      fmt(x.r.bytes / MiB / x.r.seconds),
      `${fmt((x.r.bytes / x.r.seconds) / (a.r.bytes / a.r.seconds), 2)}x`,
      String(x.r.errors),
      fmt(perGiB(x), 2),
      `${fmt(perGiB(x) / perGiB(a), 2)}x`,
      x.nginxCpu === undefined ? '' : fmt(x.nginxCpu / (x.r.bytes / GiB), 2),
    ]);
  }
  console.log('');
  console.log(`Results (${rounds} round(s) of ${seconds} s per path after ${warmup} s warm-up, summed; concurrency ${conc}; ${objects} objects of 1 MiB owned by one worker; ${loops} S3 process(es) per worker;`);
  console.log('ratios against (a) measured with the same client: wrk -t2 for (a), (b), (d); undici in this process, following the 307, for (c);');
  console.log("'wrk cpu0': the workers and wrk pinned to CPU 0, nginx alone on CPU 1, as a load balancer on its own machine):");
  console.log(table(rows, rows[0].map((_, i) => i > 1)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const flags = parseFlags(process.argv.slice(2));
  for (const k of flags.keys()) if (!['duration', 'warmup', 'conc', 'objects', 'event-loops', 'rounds'].includes(k)) throw new Error(`unknown flag --${k}`);
  const limit = (8 * Number(flags.get('rounds') ?? 3) * (Number(flags.get('duration') ?? 5) + Number(flags.get('warmup') ?? 1) + 10) + 120) * 1000;
  await runMain(() => main(flags), limit);
}
