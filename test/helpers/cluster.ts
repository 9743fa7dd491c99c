// Several real workers forming one cluster over loopback (ETCD or STATIC membership), all mounting
// the same folder (the shared under-storage), and what the cluster tests read from them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningEtcd } from './etcd.js';
import { freePort, type RunningWorker, startWorker, waitFor } from './worker.js';

export interface Cluster {
  workers: RunningWorker[];
  /** The shared folder: strata.root.ufs of every worker. */
  shared: string;
  conf: Record<string, string>;
  /** Starts one more worker with the cluster's settings. */
  add: (extra?: Record<string, string>) => Promise<RunningWorker>;
  stop: () => Promise<void>;
}

export async function startCluster(opts: { n: number; etcd?: RunningEtcd; conf?: Record<string, string>; perWorker?: Array<Record<string, string>> }): Promise<Cluster> {
  const shared = mkdtempSync(join(tmpdir(), 'strata-shared-'));
  const conf: Record<string, string> = {
    'strata.root.ufs': shared,
    'strata.worker.s3.event.loops': '1',
    'strata.cluster.secret': 'test-cluster-secret',
    ...opts.conf,
  };
  const ports: number[] = [];
  if (opts.etcd) {
    conf['strata.worker.membership.manager.type'] = 'ETCD';
    conf['strata.etcd.endpoints'] = opts.etcd.endpoint;
  } else {
    for (let i = 0; i < opts.n; i++) ports.push(await freePort());
    conf['strata.worker.membership.manager.type'] = 'STATIC';
    conf['strata.worker.membership.static.workers'] = ports.map((p) => `127.0.0.1:${p}`).join(',');
  }
  const workers: RunningWorker[] = [];
  const add = async (extra: Record<string, string> = {}) => {
    const w = await startWorker({ conf: { ...conf, ...extra }, s3Port: ports[workers.length] });
    workers.push(w);
    return w;
  };
  try {
    // One at a time: the first creates the embedded bucket, the others find it.
    for (let i = 0; i < opts.n; i++) await add(opts.perWorker?.[i]);
    if (opts.etcd) await waitForMembers(workers, opts.n);
  } catch (e) {
    await Promise.all(workers.map((w) => w.stop()));
    throw e;
  }
  return {
    workers,
    shared,
    conf,
    add,
    stop: async () => {
      await Promise.all(workers.map((w) => (w.process.exitCode === null && w.process.signalCode === null ? w.stop() : undefined)));
      rmSync(shared, { recursive: true, force: true });
    },
  };
}

export interface RingView {
  connected: boolean;
  members: Array<{ id: string; address: string; alive: boolean; self: boolean }>;
  owner?: string;
  servedBy?: string;
}

export async function ringOf(w: RunningWorker, path?: string): Promise<RingView> {
  const r = await fetch(`${w.adminUrl}/api/v1/ring${path ? `?path=${encodeURIComponent(path)}` : ''}`);
  return (await r.json()) as RingView;
}

/**
 * Waits until every given worker's ring has `n` live members: in every one of its processes (each
 * keeps its own ring; the open /metrics gauge strata_ring_members is the smallest of them) and, when
 * the admin API is open, as /api/v1/ring says.
 */
export async function waitForMembers(workers: RunningWorker[], n: number, timeoutMs = 15_000): Promise<void> {
  await waitFor(async () => {
    for (const w of workers) {
      if ((await counter(w, 'strata_ring_members')) !== n) return false;
      const r = await fetch(`${w.adminUrl}/api/v1/ring`);
      if (r.status === 401 || r.status === 403) continue;
      if (((await r.json()) as RingView).members.filter((m) => m.alive).length !== n) return false;
    }
    return true;
  }, timeoutMs, () => `the workers' rings did not reach ${n} members`);
}

export function addressOf(w: RunningWorker): string {
  return `127.0.0.1:${w.s3Port}`;
}

/** The sum of a counter's samples in a worker's /metrics whose labels contain `labels` (e.g. 'mode="proxy"'). */
export async function counter(w: RunningWorker, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${w.adminUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^(\w+)(\{[^}]*\})?\s+([\d.e+-]+)$/.exec(line);
    if (!m || m[1] !== name || (labels && !(m[2] ?? '').includes(labels))) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/** Keys `prefix0..prefix{n-1}` grouped by the worker (address) that owns `/bucket/key`. */
export async function keysByOwner(w: RunningWorker, bucket: string, keys: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const k of keys) {
    const owner = (await ringOf(w, `/${bucket}/${k}`)).owner;
    if (!owner) throw new Error('the ring API named no owner (is the admin API closed, as in SIGV4 and OIDC modes?)');
    out.set(owner, [...(out.get(owner) ?? []), k]);
  }
  return out;
}
