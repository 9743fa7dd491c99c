// Starts a real etcd (Debian's etcd-server, /usr/bin/etcd) on free loopback ports with its own data
// folder, for the cluster tests. stop() and start() again keep the data (a restarted etcd).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './worker.js';

export const ETCD_BINARY = '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return existsSync(ETCD_BINARY);
}

export interface RunningEtcd {
  endpoint: string;
  dataDir: string;
  /** Stops it (SIGTERM); the data stays for start(). */
  stop: () => Promise<void>;
  /** Starts it again on the same ports and data. */
  start: () => Promise<void>;
  /** Stops it and removes the data. */
  destroy: () => Promise<void>;
  output: () => string;
}

export async function startEtcd(): Promise<RunningEtcd> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-etcd-'));
  const dataDir = join(dir, 'data');
  const clientPort = await freePort();
  const peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let child: ChildProcess | undefined;
  let out = '';
  const start = async () => {
    const args = [
      '--name', 'strata-test', '--data-dir', dataDir,
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `strata-test=${peer}`, '--log-level', 'error', '--logger', 'zap',
    ];
    const c = spawn(ETCD_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.on('data', (d) => (out += d));
    c.stderr!.on('data', (d) => (out += d));
    await waitFor(async () => {
      if (c.exitCode !== null) throw new Error(`etcd exited (${c.exitCode}):\n${out}`);
      const r = await fetch(`${endpoint}/health`).catch(() => null);
      return r?.status === 200 && ((await r.json()) as { health?: string }).health === 'true';
    }, 20_000, () => `etcd not healthy:\n${out}`);
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    endpoint,
    dataDir,
    stop,
    start,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    output: () => out,
  };
}
