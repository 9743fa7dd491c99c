// Shared pieces of the benchmarks: tool checks, nginx, wrk, process cleanup, RSS sampling, tables.
// Benchmarks are not tests: they print figures. Everything here talks to 127.0.0.1 only, and every
// process started here is stopped at the end, also on errors, SIGINT and SIGTERM.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/worker.js';

export const NGINX = '/usr/sbin/nginx';
export const WRK = '/usr/bin/wrk';
export const TASKSET = '/usr/bin/taskset';
export const KiB = 1024;
export const MiB = 1024 * 1024;

// ---- tools ------------------------------------------------------------------------------

/** Throws with the install command when a system tool the benchmark needs is missing. */
export function requireTools(tools: Array<{ name: string; path: string }>): void {
  const missing = tools.filter((t) => !existsSync(t.path) && !onPath(t.name));
  if (missing.length > 0) {
    throw new Error(
      `This benchmark needs ${missing.map((t) => t.name).join(' and ')} (Debian packages). Install with:\n` +
        `  apt-get install ${missing.map((t) => t.name).join(' ')}`,
    );
  }
}

function onPath(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

function toolPath(path: string, name: string): string {
  return existsSync(path) ? path : name;
}

// ---- cleanup ----------------------------------------------------------------------------

type Cleanup = { sync: () => void; async: () => Promise<void> };
const cleanups = new Set<Cleanup>();
let handlersInstalled = false;
/** Set once a signal asked to stop: errors of the runs cut short are not worth printing. */
let stopping = false;

/**
 * Registers something to stop at the end. `async` is the orderly way (run by the caller's finally
 * through runCleanups); `sync` is the last resort run from process 'exit' and signal handlers.
 * Returns a function that unregisters it.
 */
export function onCleanup(c: Cleanup): () => void {
  installHandlers();
  cleanups.add(c);
  return () => cleanups.delete(c);
}

export async function runCleanups(): Promise<void> {
  const all = [...cleanups].reverse();
  cleanups.clear();
  for (const c of all) {
    try {
      await c.async();
    } catch (e) {
      console.error('cleanup failed:', e);
      try {
        c.sync();
      } catch {
        /* already gone */
      }
    }
  }
}

function runCleanupsSync(): void {
  for (const c of [...cleanups].reverse()) {
    try {
      c.sync();
    } catch {
      /* already gone */
    }
  }
  cleanups.clear();
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', runCleanupsSync);
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      stopping = true;
      console.error(`\n${sig}: stopping the processes this benchmark started...`);
      const hard = setTimeout(() => {
        runCleanupsSync();
        process.exit(codes[sig]);
      }, 10_000);
      hard.unref();
      runCleanups().finally(() => process.exit(codes[sig]));
    });
  }
}

/** Runs `main` with a watchdog, and the registered cleanups in every case. */
export async function runMain(main: () => Promise<void>, limitMs: number): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`benchmark exceeded its time limit (${Math.round(limitMs / 1000)} s); stopping.`);
    runCleanups().finally(() => process.exit(3));
  }, limitMs);
  watchdog.unref();
  try {
    await main();
  } catch (e) {
    if (!stopping) {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    }
  } finally {
    clearTimeout(watchdog);
    await runCleanups();
  }
}

/** Waits for a child to exit, sending SIGKILL (to its process group when `group`) after `ms`. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, ms: number, group = false): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const kill = (sig: NodeJS.Signals) => {
      try {
        if (group && child.pid) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch {
        /* gone */
      }
    };
    const t = setTimeout(() => kill('SIGKILL'), ms);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
    kill(signal);
  });
}

// ---- nginx ------------------------------------------------------------------------------

export interface RunningNginx {
  /** The master's pid (daemon off: the process started here). */
  pid: number;
  port: number;
  url: string;
  dir: string;
  stop: () => Promise<void>;
}

/** Starts Debian's nginx (master + `auto` workers, sendfile) serving `root` on a free loopback port. */
export async function startNginx(root: string): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  // As root, nginx would switch its workers to `nobody`, who cannot read the 0700 temp folders.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  writeFileSync(
    conf,
    `${user}daemon off;
master_process on;
worker_processes auto;
error_log ${dir}/error.log;
pid ${dir}/nginx.pid;
events {}
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  default_type application/octet-stream;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location / {}
  }
}
`,
  );
  const bin = toolPath(NGINX, 'nginx');
  // -e: Debian's build would otherwise open /var/log/nginx/error.log before reading the config.
  // detached: its own process group, so the master and its workers are stopped together.
  const child = spawn(bin, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const remove = onCleanup({
    sync: () => {
      try {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      rmSync(dir, { recursive: true, force: true });
    },
    async: async () => {
      await stopChild(child, 'SIGTERM', 5000, true);
      rmSync(dir, { recursive: true, force: true });
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const log = existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '';
      throw new Error(`nginx exited early (${child.exitCode}):\n${out}${log}`);
    }
    const r = await fetch(`${url}/`, { method: 'HEAD' }).catch(() => null);
    if (r) break;
    if (Date.now() > deadline) throw new Error(`nginx did not answer on ${url}:\n${out}`);
    await sleep(50);
  }
  return {
    pid: child.pid!,
    port,
    url,
    dir,
    stop: async () => {
      remove();
      await stopChild(child, 'SIGTERM', 5000, true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- wrk --------------------------------------------------------------------------------

export interface WrkResult {
  requests: number;
  seconds: number;
  reqPerSec: number;
  /** Response bytes per second as wrk counts them (headers included). */
  transferPerSec: number;
  latency: { p50: number; p75: number; p90: number; p99: number };
  non2xx: number;
  socketErrors: number;
  raw: string;
}

/** A wrk Lua script that rotates over the paths (each thread starts at a different place). */
export function rotationScript(dir: string, paths: string[]): string {
  const file = join(dir, `rotate-${paths.length}-${Math.random().toString(36).slice(2)}.lua`);
  const list = paths.map((p) => `  ${JSON.stringify(p)},`).join('\n');
  writeFileSync(
    file,
    `local paths = {
${list}
}
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7)
  counter = counter + 1
end
local i = 0
function init(args)
  i = (offset or 0) % #paths
end
function request()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i])
end
`,
  );
  return file;
}

/** Runs wrk; bounded by its own duration plus a margin. */
/** `onCpus`: run wrk on these CPUs only (taskset -c). */
export async function runWrk(url: string, script: string, connections: number, seconds: number, threads = 2, onCpus?: string): Promise<WrkResult> {
  const args = [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--latency', '--timeout', '10s', '-s', script, url];
  const child = onCpus === undefined
    ? spawn(toolPath(WRK, 'wrk'), args, { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(TASKSET, ['-c', onCpus, toolPath(WRK, 'wrk'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const remove = onCleanup({ sync: () => child.kill('SIGKILL'), async: () => stopChild(child, 'SIGINT', 2000) });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const hard = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  const code = await new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  clearTimeout(hard);
  remove();
  if (code !== 0) throw new Error(`wrk failed (${code}): wrk ${args.join(' ')}\n${out}`);
  return parseWrk(out, seconds);
}

function parseWrk(out: string, seconds: number): WrkResult {
  const num = (re: RegExp) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const requests = total ? Number(total[1]) : NaN;
  const unit: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60 };
  const elapsed = total ? Number(total[2]) * unit[total[3]] : seconds;
  const lat = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)`, 'm').exec(out);
    return m ? Number(m[1]) * unit[m[2]] * 1000 : NaN;
  };
  const tr = /Transfer\/sec:\s+([\d.]+)([KMGT]?B)/.exec(out);
  const scale: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
  const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests,
    seconds: elapsed,
    reqPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    transferPerSec: tr ? Number(tr[1]) * scale[tr[2]] : NaN,
    latency: { p50: lat('50'), p75: lat('75'), p90: lat('90'), p99: lat('99') },
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: se ? se.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    raw: out,
  };
}

// ---- /proc sampling ----------------------------------------------------------------------

export interface ProcMemory {
  rssKiB: number;
  hwmKiB: number;
}

export function readProcMemory(pid: number): ProcMemory | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rssKiB: field('VmRSS'), hwmKiB: field('VmHWM') };
  } catch {
    return null;
  }
}

/** A process and all its descendants (the worker's node:cluster children, nginx's workers). */
/** Moves every thread of a process and its descendants onto `cpus` (taskset -a -p -c). */
export function pinTree(pid: number, cpus: string): void {
  for (const p of processTree(pid)) {
    const r = spawnSync(TASKSET, ['-a', '-p', '-c', cpus, String(p)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${p} failed: ${r.stderr}`);
  }
}

export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [child, parent] of parentOf) if (parent === out[i]) out.push(child);
  }
  return out;
}

/** CPU time (user + system, seconds) used so far by a process and its live descendants. */
export function cpuSeconds(pid: number): number {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields after the name: state(0) ppid(1) ... utime(11) stime(12)
      total += (Number(f[11]) + Number(f[12])) / tick;
    } catch {
      /* gone */
    }
  }
  return total;
}

export interface RssPeak {
  /** Highest VmRSS of any one process of the tree. */
  processKiB: number;
  /** Highest sum of VmRSS over the tree at one sample. */
  treeKiB: number;
  samples: number;
}

/** Samples VmRSS of a process and its descendants every `everyMs`; `stop()` returns the peaks. */
export function sampleRss(pid: number, everyMs = 100): { stop: () => RssPeak } {
  const peak: RssPeak = { processKiB: 0, treeKiB: 0, samples: 0 };
  let tree = processTree(pid);
  let ticks = 0;
  const take = () => {
    if (ticks++ % 10 === 0) tree = processTree(pid);
    let sum = 0;
    for (const p of tree) {
      const m = readProcMemory(p);
      if (m && Number.isFinite(m.rssKiB)) {
        sum += m.rssKiB;
        peak.processKiB = Math.max(peak.processKiB, m.rssKiB);
      }
    }
    peak.samples++;
    peak.treeKiB = Math.max(peak.treeKiB, sum);
  };
  take();
  const t = setInterval(take, everyMs);
  let stopped = false;
  return {
    stop: () => {
      if (!stopped) {
        stopped = true;
        clearInterval(t);
        take();
      }
      return { ...peak };
    },
  };
}

// ---- misc -------------------------------------------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function machineLine(): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown CPU';
  const nproc = spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim() || String(cpus().length);
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const sysctl = (k: string) => {
    try {
      return readFileSync(`/proc/sys/${k.replaceAll('.', '/')}`, 'utf8').trim();
    } catch {
      return '?';
    }
  };
  return (
    `machine: nproc=${nproc} (${cpu}), node ${process.version}, Linux ${kernel}, ` +
    `net.ipv4.tcp_tw_reuse=${sysctl('net.ipv4.tcp_tw_reuse')}, net.ipv4.tcp_fin_timeout=${sysctl('net.ipv4.tcp_fin_timeout')}`
  );
}

export function commandLine(): string {
  const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  return [process.argv0 === 'node' ? 'node' : process.execPath, ...process.execArgv, ...process.argv.slice(1)].map(quote).join(' ');
}

/** Renders rows as an aligned plain-text table (first row is the header). */
export function table(rows: string[][], rightAlign: boolean[] = []): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (rightAlign[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Tiny flag parser: --name value, --name=value, --flag. */
export function parseFlags(argv: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument: ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.set(a.slice(2), argv[++i]);
    else out.set(a.slice(2), 'true');
  }
  return out;
}

export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(s.trim());
  if (!m) throw new Error(`not a size: ${s}`);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  return Math.round(Number(m[1]) * ({ b: 1, k: KiB, m: MiB, g: 1024 * MiB } as Record<string, number>)[unit]);
}

export function sizeLabel(bytes: number): string {
  if (bytes >= 1024 * MiB && bytes % (1024 * MiB) === 0) return `${bytes / (1024 * MiB)} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

// ---- curl as a load generator -------------------------------------------------------------

export const CURL = '/usr/bin/curl';

export interface CurlPass {
  seconds: number;
  /** Body bytes received by the answers that were 200. */
  bytes: number;
  ok: number;
  failures: number;
}

/**
 * GETs every URL once with one curl process (`--parallel`, keep-alive connections, `-L` follows
 * redirects), `conc` at a time: a C client, so it is rarely what limits the figure.
 */
export async function curlAll(scratch: string, urls: string[], conc: number): Promise<CurlPass> {
  const config = join(scratch, `urls-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(config, urls.map((u) => `url = "${u}"\noutput = "/dev/null"\n`).join(''));
  const args = ['--parallel', '--parallel-immediate', '--parallel-max', String(conc), '-L', '-s', '-K', config, '-w', '%{http_code} %{size_download}\\n'];
  const started = process.hrtime.bigint();
  const child = spawn(toolPath(CURL, 'curl'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const remove = onCleanup({ sync: () => child.kill('SIGKILL'), async: () => stopChild(child, 'SIGKILL', 1000) });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const hard = setTimeout(() => child.kill('SIGKILL'), 600_000);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(hard);
  remove();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const pass: CurlPass = { seconds, bytes: 0, ok: 0, failures: 0 };
  for (const line of out.trim().split('\n')) {
    const [code, size] = line.split(' ');
    if (code === '200') {
      pass.ok++;
      pass.bytes += Number(size);
    } else pass.failures++;
  }
  return pass;
}
