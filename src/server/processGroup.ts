// Relaying announcements (objects/siblings.ts) between the processes of one worker over the
// node:cluster IPC channel: children send to the primary, which applies, relays to every other
// child, waits for their acknowledgements and then answers the announcer.
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import type { Change, Siblings } from '../objects/siblings.js';

interface AnnounceMessage {
  strata: 'announce';
  id: string;
  change: Change;
}
interface AppliedMessage {
  strata: 'applied';
  id: string;
}
type Message = AnnounceMessage | AppliedMessage;

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && 'strata' in m;

/**
 * In a child process: announcements go to the primary, which relays them; changes relayed from
 * siblings are applied with `apply` and acknowledged.
 */
export class ChildSiblings implements Siblings {
  private readonly pending = new Map<string, () => void>();

  constructor(apply: (change: Change) => Promise<void>) {
    process.on('message', (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.strata === 'applied') {
        this.pending.get(m.id)?.();
        this.pending.delete(m.id);
      } else if (m.strata === 'announce') {
        void apply(m.change).finally(() => process.send?.({ strata: 'applied', id: m.id } satisfies AppliedMessage));
      }
    });
  }

  announce(change: Change): Promise<void> {
    const id = randomUUID();
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      process.send?.({ strata: 'announce', id, change } satisfies AnnounceMessage);
    });
  }
}

/**
 * In the primary: relays a child's announcement to every other child (and applies it to the
 * primary's own view), then tells the child it is done. The primary's own changes (admin API)
 * go to every child.
 */
export class PrimarySiblings implements Siblings {
  private readonly waiting = new Map<string, { left: Set<number>; done: () => void }>();
  /**
   * Children that listen: they have their announcement handler (made before they listen). A child
   * just forked, to replace one that died, would drop a message sent before that and never answer.
   */
  private readonly ready = new Set<number>();

  constructor(private readonly apply: (change: Change) => Promise<void>) {
    cluster.on('listening', (worker) => this.ready.add(worker.id));
    cluster.on('message', (worker, m: unknown) => {
      if (!isMessage(m)) return;
      if (m.strata === 'announce') {
        // The announcer may have died meanwhile: a failed send is reported to the callback,
        // not as an 'error' event that nothing listens to (which would end the primary).
        void this.relay(m.change, worker.id).then(() => worker.send({ strata: 'applied', id: m.id } satisfies AppliedMessage, ignoreSendError));
      } else if (m.strata === 'applied') {
        this.acknowledge(m.id, worker.id);
      }
    });
    // A child that dies does not hold announcements up.
    cluster.on('exit', (worker) => {
      this.ready.delete(worker.id);
      for (const id of [...this.waiting.keys()]) this.acknowledge(id, worker.id);
    });
  }

  announce(change: Change): Promise<void> {
    return this.relay(change, undefined);
  }

  private async relay(change: Change, from: number | undefined): Promise<void> {
    await this.apply(change);
    const targets = Object.values(cluster.workers ?? {}).filter((w) => w && w.id !== from && this.ready.has(w.id) && w.isConnected());
    if (targets.length === 0) return;
    const id = randomUUID();
    await new Promise<void>((done) => {
      this.waiting.set(id, { left: new Set(targets.map((w) => w!.id)), done });
      for (const w of targets) w!.send({ strata: 'announce', id, change } satisfies AnnounceMessage, ignoreSendError);
    });
  }

  private acknowledge(id: string, workerId: number): void {
    const w = this.waiting.get(id);
    if (!w) return;
    w.left.delete(workerId);
    if (w.left.size === 0) {
      this.waiting.delete(id);
      w.done();
    }
  }
}

/** A child that is gone: its 'exit' acknowledges for it, so there is nothing more to do. */
function ignoreSendError(): void {}
