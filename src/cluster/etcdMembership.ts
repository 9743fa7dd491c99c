// ETCD membership: this worker registers `/strata/workers/<id>` under a lease it keeps alive
// (TTL = strata.worker.failure.detection.timeout), watches the prefix and rebuilds its view at
// once on every change. A worker that dies leaves when its lease expires. A worker that loses
// etcd keeps its last view, and registers again (a new lease) as soon as etcd answers.
import { EventEmitter } from 'node:events';
import type { Etcd3, Lease, Watcher } from 'etcd3';
import type { Logger } from 'pino';
import { WORKERS_PREFIX } from './etcd.js';
import type { Member, Membership } from './membership.js';

export interface EtcdMembershipOptions {
  client: Etcd3;
  self: Member;
  /** Register this worker (the primary of a worker does; its S3 processes only watch). */
  register: boolean;
  detectionTimeoutMs: number;
  logger: Logger;
}

/** etcd's lease TTL is in whole seconds, 2 at least (its own minimum is about 1.5 s). */
export function leaseTtlSeconds(detectionTimeoutMs: number): number {
  return Math.max(2, Math.ceil(detectionTimeoutMs / 1000));
}

export class EtcdMembership implements Membership {
  readonly kind = 'ETCD';
  private byId = new Map<string, Member>();
  private list: Member[] = [];
  private lease?: Lease;
  private watcher?: Watcher;
  private watching = false;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  /** Revision of the last full read; older watch events are already in it. */
  private snapshotRevision = 0n;
  private readonly events = new EventEmitter();

  constructor(private readonly opts: EtcdMembershipOptions) {}

  get self(): Member {
    return this.opts.self;
  }

  members(): readonly Member[] {
    return this.list;
  }

  isAlive(id: string): boolean {
    return this.byId.has(id);
  }

  connected(): boolean {
    return this.watching;
  }

  onChange(listener: () => void): void {
    this.events.on('change', listener);
  }

  async start(): Promise<void> {
    const w = await this.opts.client.watch().prefix(WORKERS_PREFIX).create();
    this.watcher = w;
    w.on('put', (kv) => this.apply(kv.key.toString(), kv.value.toString(), BigInt(kv.mod_revision)));
    w.on('delete', (kv) => this.apply(kv.key.toString(), undefined, BigInt(kv.mod_revision)));
    // After a reconnection events may have been compacted away: read everything again.
    w.on('connected', () => {
      this.watching = true;
      void this.resync().catch((e) => this.opts.logger.warn({ err: e }, 'etcd: reading the members failed'));
    });
    w.on('disconnected', () => {
      if (this.watching) this.opts.logger.warn('etcd: watch of the members lost; serving with the last known ring');
      this.watching = false;
    });
    w.on('error', (e) => this.opts.logger.warn({ err: e }, 'etcd: watch error'));
    this.watching = true;
    await this.resync();
  }

  /** Registers this worker (when it is the registering process), after its listeners are up. */
  async join(): Promise<void> {
    if (this.opts.register && !this.stopped) await this.register();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retry);
    await this.watcher?.cancel().catch(() => undefined);
    // Leaving at once (not after the TTL): the others move this worker's keys now.
    if (this.lease) await this.lease.revoke().catch(() => undefined);
  }

  private key(id = this.self.id): string {
    return WORKERS_PREFIX + id;
  }

  private async register(): Promise<void> {
    const lease = this.opts.client.lease(leaseTtlSeconds(this.opts.detectionTimeoutMs));
    let registered = false;
    lease.on('lost', (err) => {
      if (this.stopped || this.lease !== lease) return;
      if (registered) this.opts.logger.warn({ err: err.message }, 'etcd: registration lease lost; registering again');
      this.lease = undefined;
      this.scheduleRegister(0);
    });
    this.lease = lease;
    try {
      await lease.put(this.key()).value(JSON.stringify(this.self));
      registered = true;
    } catch (e) {
      this.lease = undefined;
      lease.release();
      throw e;
    }
  }

  private scheduleRegister(delayMs: number): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.stopped || this.lease) return;
      this.register().then(
        () => this.opts.logger.info('etcd: registered again'),
        () => this.scheduleRegister(1000),
      );
    }, delayMs);
  }

  private async resync(): Promise<void> {
    const res = await this.opts.client.getAll().prefix(WORKERS_PREFIX).exec();
    const next = new Map<string, Member>();
    for (const kv of res.kvs) {
      const m = parseMember(kv.value.toString());
      if (m) next.set(m.id, m);
    }
    this.snapshotRevision = BigInt(res.header.revision);
    this.replace(next);
  }

  private apply(key: string, value: string | undefined, revision: bigint): void {
    if (revision <= this.snapshotRevision) return;
    const id = key.slice(WORKERS_PREFIX.length);
    const next = new Map(this.byId);
    const m = value === undefined ? undefined : parseMember(value);
    if (m) next.set(id, m);
    else next.delete(id);
    this.replace(next);
    // Our own key gone while we run (a lease etcd expired behind our back): register again.
    if (value === undefined && id === this.self.id && this.opts.register && !this.stopped) {
      this.lease?.release();
      this.lease = undefined;
      this.scheduleRegister(0);
    }
  }

  private replace(next: Map<string, Member>): void {
    const before = JSON.stringify(this.list);
    this.byId = next;
    this.list = [...next.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (JSON.stringify(this.list) !== before) this.events.emit('change');
  }
}

function parseMember(text: string): Member | undefined {
  try {
    const m = JSON.parse(text) as Member;
    if (typeof m.id !== 'string' || typeof m.address !== 'string') return undefined;
    return { id: m.id, address: m.address, ...(m.httpsAddress ? { httpsAddress: m.httpsAddress } : {}) };
  } catch {
    return undefined;
  }
}
