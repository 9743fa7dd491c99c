// Who is in the cluster. STATIC: the workers listed in configuration, with liveness from a
// background TCP probe of each peer (never a per-request check). ETCD: etcdMembership.ts.
import { EventEmitter } from 'node:events';
import { connect } from 'node:net';
import type { RingMember } from './ring.js';

export interface Member extends RingMember {
  /** host:port of the member's HTTPS listener, when it has one (worker-to-worker TLS). */
  httpsAddress?: string;
}

export interface Membership {
  readonly kind: 'STATIC' | 'ETCD';
  readonly self: Member;
  /** The members the ring is built from, in a stable order. */
  members(): readonly Member[];
  /** False for a member known to be down (STATIC: failed probes for the detection timeout). */
  isAlive(id: string): boolean;
  /** Whether the store of membership (etcd) answers; STATIC is always connected. */
  connected(): boolean;
  /** Called after every change of members or liveness. */
  onChange(listener: () => void): void;
  start(): Promise<void>;
  /** Announces this worker to the others (ETCD: registers it), once it serves. */
  join(): Promise<void>;
  stop(): Promise<void>;
}

/** `host:port` split; throws a clear error for anything else. */
export function parseAddress(text: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!m || Number(m[2]) > 65535) throw new Error(`not a host:port address: "${text}"`);
  return { host: m[1], port: Number(m[2]) };
}

export interface StaticOptions {
  self: Member;
  /** Every worker's S3 address (host:port); may or may not include self. */
  workers: readonly string[];
  detectionTimeoutMs: number;
  /** Peers are probed in the background at this interval (0: never; tests of the pure parts). */
  probeIntervalMs: number;
}

export class StaticMembership implements Membership {
  readonly kind = 'STATIC';
  private readonly list: Member[];
  /** Peer id -> when its probes started failing. */
  private readonly failingSince = new Map<string, number>();
  private readonly dead = new Set<string>();
  private readonly events = new EventEmitter();
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: StaticOptions) {
    const seen = new Set<string>();
    this.list = [];
    for (const w of opts.workers) {
      const address = w.trim();
      if (!address || seen.has(address)) continue;
      parseAddress(address);
      seen.add(address);
      this.list.push(address === opts.self.address ? opts.self : { id: address, address });
    }
    // No list: a cluster of one.
    if (this.list.length === 0) this.list.push(opts.self);
  }

  get self(): Member {
    return this.opts.self;
  }

  members(): readonly Member[] {
    return this.list;
  }

  isAlive(id: string): boolean {
    return !this.dead.has(id);
  }

  connected(): boolean {
    return true;
  }

  onChange(listener: () => void): void {
    this.events.on('change', listener);
  }

  async start(): Promise<void> {
    if (this.opts.probeIntervalMs <= 0 || this.list.length < 2) return;
    this.timer = setInterval(() => void this.probeAll(), this.opts.probeIntervalMs);
    this.timer.unref();
  }

  async join(): Promise<void> {
    // The others know this worker from their configuration.
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  private async probeAll(): Promise<void> {
    const now = Date.now();
    let changed = false;
    await Promise.all(this.list.filter((m) => m.id !== this.self.id).map(async (m) => {
      const ok = await probe(m.address, Math.min(this.opts.probeIntervalMs, 2000));
      if (ok) {
        this.failingSince.delete(m.id);
        if (this.dead.delete(m.id)) changed = true;
        return;
      }
      const since = this.failingSince.get(m.id) ?? now;
      this.failingSince.set(m.id, since);
      if (now - since >= this.opts.detectionTimeoutMs && !this.dead.has(m.id)) {
        this.dead.add(m.id);
        changed = true;
      }
    }));
    if (changed) this.events.emit('change');
  }
}

/** A TCP connect to the address within `timeoutMs`. */
export function probe(address: string, timeoutMs: number): Promise<boolean> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}
