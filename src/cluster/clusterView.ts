// This process's view of the cluster: the membership and the hash ring built from it, rebuilt
// (pure, immutable) on every membership change. Answers "who serves this path".
import type { Member, Membership } from './membership.js';
import { buildRing, type HashRing, type RingOptions } from './ring.js';

export interface RingDescription {
  kind: 'STATIC' | 'ETCD';
  algorithm: string;
  virtualNodes: number;
  /** Whether the membership store (etcd) answers now; false: serving with the last known ring. */
  connected: boolean;
  self: string;
  members: Array<{ id: string; address: string; httpsAddress?: string; alive: boolean; self: boolean }>;
  /** For ?path=: the ring's owner, and the worker that serves it now (the next live one when the owner is known dead). */
  path?: string;
  owner?: string;
  servedBy?: string;
}

export class ClusterView {
  private current: HashRing;
  /** The ring keeps id and address only; the members' other fields (httpsAddress) by id. */
  private byId = new Map<string, Member>();

  constructor(readonly membership: Membership, readonly ringOptions: RingOptions, private readonly onRebuild?: (ring: HashRing) => void) {
    this.current = this.build();
    membership.onChange(() => {
      this.current = this.build();
    });
  }

  get ring(): HashRing {
    return this.current;
  }

  get self(): Member {
    return this.membership.self;
  }

  /** More than this worker: forwarding decisions are worth making. */
  get clustered(): boolean {
    const ms = this.current.members;
    return ms.length > 1 || (ms.length === 1 && ms[0].id !== this.self.id);
  }

  /** The ring's owner of `path`, or, with `skipDead`, the first live member of its preference list. */
  serverOf(path: string, skipDead: boolean): Member | undefined {
    const owner = this.current.ownerOf(path);
    if (!owner) return undefined;
    if (!skipDead || this.membership.isAlive(owner.id)) return this.full(owner);
    const next = this.current.preferenceList(path, this.current.members.length).find((m) => this.membership.isAlive(m.id));
    return this.full(next ?? owner);
  }

  private full(m: { id: string; address: string }): Member {
    return this.byId.get(m.id) ?? m;
  }

  isSelf(m: Member): boolean {
    return m.id === this.self.id;
  }

  describe(path?: string): RingDescription {
    const d: RingDescription = {
      kind: this.membership.kind,
      algorithm: this.ringOptions.algorithm,
      virtualNodes: this.ringOptions.virtualNodes,
      connected: this.membership.connected(),
      self: this.self.id,
      members: this.current.members.map((m) => ({
        id: m.id,
        address: m.address,
        ...(this.full(m).httpsAddress ? { httpsAddress: this.full(m).httpsAddress } : {}),
        alive: this.membership.isAlive(m.id),
        self: m.id === this.self.id,
      })),
    };
    if (path !== undefined) {
      d.path = path;
      d.owner = this.current.ownerOf(path)?.id;
      d.servedBy = this.serverOf(path, true)?.id;
    }
    return d;
  }

  private build(): HashRing {
    const members = this.membership.members();
    this.byId = new Map(members.map((m) => [m.id, m]));
    const ring = buildRing(members, this.ringOptions);
    this.onRebuild?.(ring);
    return ring;
  }
}
