// Starts the real built worker (dist/src/cli/main.js) as a child process on free loopback ports,
// with its own work folder, for integration tests and benchmarks.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/test/helpers/). */
export const REPO_ROOT = resolve(here, '..', '..', '..');
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/**
 * A loopback port nothing listens on, for a server started next. Taken below the kernel's
 * ephemeral range: a port of that range can be given to an outgoing connection between this
 * check and the server's bind (EADDRINUSE, seen in CI), one below it cannot.
 */
export async function freePort(): Promise<number> {
  // Above every port fetch() refuses to connect to (the Fetch standard's "bad ports", up to 10080).
  const low = 11_000;
  const high = ephemeralLow() - 1;
  for (let i = 0; high - low > 1000 && i < 100; i++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (handedOut.has(port)) continue;
    if ((await listenOn(port)) !== undefined) {
      handedOut.add(port);
      return port;
    }
  }
  return (await listenOn(0))!;
}

/** Ports this process gave out: not given again, though their server may not listen yet. */
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32768;
  } catch {
    return 32768;
  }
}

/** Listens on `port` (0: any) and closes again: the port, or undefined when it is taken. */
function listenOn(port: number): Promise<number | undefined> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(undefined));
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => res(got));
    });
  });
}

export interface RunningWorker {
  s3Url: string;
  adminUrl: string;
  s3Port: number;
  webPort: number;
  workDir: string;
  rootUfs: string;
  process: ChildProcess;
  /** Everything the worker printed, for assertions on logs. */
  output: () => string;
  /** SIGTERM and wait for exit. */
  stop: () => Promise<number | null>;
  /** SIGKILL and wait. */
  kill: () => Promise<void>;
  /** Runs the strata CLI against this worker. */
  cli: (...args: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>;
}

export interface StartOptions {
  /** Extra -D settings. */
  conf?: Record<string, string>;
  /** Reuse a work folder (restart tests). */
  workDir?: string;
  embedded?: boolean;
  /** Keep the work folder after stop. */
  keep?: boolean;
  /** The S3 port (a cluster's static member list names it before the worker starts). */
  s3Port?: number;
}

export async function startWorker(opts: StartOptions = {}): Promise<RunningWorker> {
  const workDir = opts.workDir ?? mkdtempSync(join(tmpdir(), 'strata-test-'));
  const rootUfs = join(workDir, 'buckets');
  const s3Port = opts.s3Port ?? (await freePort());
  const webPort = await freePort();
  const conf: Record<string, string> = {
    'strata.work.dir': workDir,
    'strata.root.ufs': rootUfs,
    'strata.worker.rest.port': String(s3Port),
    'strata.worker.web.port': String(webPort),
    'strata.worker.bind.host': '127.0.0.1',
    'strata.underfs.local.fsync.enabled': 'false',
    ...opts.conf,
  };
  const args = [CLI, 'worker', 'start', ...(opts.embedded === false ? [] : ['--embedded'])];
  for (const [k, v] of Object.entries(conf)) args.push('-D', `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`worker exited early (${child.exitCode}):\n${out}`);
      const r = await fetch(`http://127.0.0.1:${webPort}/ready`).catch(() => null);
      return r?.status === 200;
    }, 15_000, () => `worker not ready:\n${out}`);
  } catch (e) {
    // A worker left running would keep the test file's process alive until the runner's timeout.
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    throw e;
  }
  const adminUrl = `http://127.0.0.1:${webPort}`;
  const cleanup = () => {
    if (!opts.keep && !opts.workDir) rmSync(workDir, { recursive: true, force: true });
  };
  return {
    s3Url: `http://127.0.0.1:${s3Port}`,
    adminUrl,
    s3Port,
    webPort,
    workDir,
    rootUfs,
    process: child,
    output: () => out,
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      cleanup();
      return code;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    cli: (...cliArgs) => runCli([...cliArgs, '--worker', `127.0.0.1:${webPort}`]),
  };
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('exit', (code) => res({ code, stdout, stderr }));
  });
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((r) => setTimeout(r, 50));
  }
}
