// The mount table in etcd (ETCD mode): one key per bucket, `/strata/mounts/<bucket>` = the entry
// as JSON. Every process of every worker watches the prefix and reloads its table on a change,
// so `strata mount add` on any worker is seen by all of them within milliseconds.
import type { Etcd3, Watcher } from 'etcd3';
import { MOUNTS_PREFIX } from '../cluster/etcd.js';
import { ObjectError } from '../objects/errors.js';
import type { MountEntry, MountStore } from './mountTable.js';

export class EtcdMountStore implements MountStore {
  /** bucket -> entry JSON as last loaded or saved: save() writes only the difference. */
  private known = new Map<string, string>();
  private watcher?: Watcher;

  constructor(private readonly client: Etcd3) {}

  async load(): Promise<MountEntry[]> {
    let all: Record<string, string>;
    try {
      all = await this.client.getAll().prefix(MOUNTS_PREFIX).strings();
    } catch (e) {
      throw new Error(`cannot read the mount table from etcd (strata.etcd.endpoints): ${(e as Error).message}`);
    }
    const entries: MountEntry[] = [];
    const known = new Map<string, string>();
    for (const [key, value] of Object.entries(all)) {
      try {
        const e = JSON.parse(value) as MountEntry;
        if (e.bucket !== key.slice(MOUNTS_PREFIX.length)) continue;
        entries.push(e);
        known.set(e.bucket, value);
      } catch {
        // A value not written by Strata: not a mount.
      }
    }
    this.known = known;
    return entries;
  }

  async save(entries: MountEntry[]): Promise<void> {
    const next = new Map(entries.map((e) => [e.bucket, JSON.stringify(e)]));
    for (const [bucket, json] of next) {
      if (this.known.get(bucket) === json) continue;
      const key = MOUNTS_PREFIX + bucket;
      if (!this.known.has(bucket)) {
        // A new bucket: created only if no worker made it meanwhile.
        const r = await this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(json)).commit();
        if (!r.succeeded) throw new ObjectError('BucketAlreadyExists', `Bucket ${bucket} was just created through another worker.`, { BucketName: bucket });
      } else {
        await this.client.put(key).value(json);
      }
      this.known.set(bucket, json);
    }
    for (const bucket of [...this.known.keys()]) {
      if (next.has(bucket)) continue;
      await this.client.delete().key(MOUNTS_PREFIX + bucket);
      this.known.delete(bucket);
    }
  }

  /** Calls `onChange` after every change under the prefix, and after the watch reconnects. */
  async watch(onChange: () => void): Promise<void> {
    const w = await this.client.watch().prefix(MOUNTS_PREFIX).create();
    this.watcher = w;
    w.on('put', () => onChange());
    w.on('delete', () => onChange());
    w.on('connected', () => onChange());
    w.on('error', () => undefined);
  }

  async close(): Promise<void> {
    await this.watcher?.cancel().catch(() => undefined);
  }
}
