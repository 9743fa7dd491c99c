// The mount table: bucket -> under-storage URI + options. Buckets are mount points; the root is
// not a bucket. In STATIC mode the table is a JSON file in the work folder, replaced atomically.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';

export interface MountEntry {
  bucket: string;
  /** `file:///srv/data` or `s3://bucket/prefix/`. */
  ufsUri: string;
  options: Record<string, string>;
  /** ISO time the mount was made: the bucket's CreationDate. */
  createdAt: string;
  /** The user who made it: the bucket's owner. */
  owner: string;
  /** 'bucket': made by CreateBucket under the root folder (DeleteBucket may remove it); 'mount': by `strata mount add`. */
  origin: 'bucket' | 'mount';
  /** Bucket tags (PutBucketTagging). */
  tags?: Array<[string, string]>;
}

export interface MountStore {
  load(): Promise<MountEntry[]>;
  save(entries: MountEntry[]): Promise<void>;
}

/** Mount table kept in `<work dir>/mounts.json`. */
export class FileMountStore implements MountStore {
  constructor(private readonly file: string) {}

  async load(): Promise<MountEntry[]> {
    try {
      const parsed = JSON.parse(await fsp.readFile(this.file, 'utf8')) as { mounts: MountEntry[] };
      return parsed.mounts ?? [];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new Error(`cannot read the mount table ${this.file}: ${(e as Error).message}`);
    }
  }

  async save(entries: MountEntry[]): Promise<void> {
    await fsp.mkdir(dirname(this.file), { recursive: true });
    const tmp = join(dirname(this.file), `.mounts.${randomUUID()}.json`);
    await fsp.writeFile(tmp, JSON.stringify({ mounts: entries }, null, 2));
    await fsp.rename(tmp, this.file);
  }
}

/** In-memory view of the table, persisted on every change; emits 'change' for the object service. */
export class MountTable extends EventEmitter {
  private entries = new Map<string, MountEntry>();
  /** Serializes changes so concurrent adds do not overwrite each other's save. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: MountStore) {
    super();
  }

  async load(): Promise<void> {
    this.entries = new Map((await this.store.load()).map((e) => [e.bucket, e]));
  }

  /** Reads the table again (another process of this worker changed it); 'change' for every bucket that differs. */
  reload(): Promise<void> {
    return this.serialize(async () => {
      const next = new Map((await this.store.load()).map((e) => [e.bucket, e]));
      const changed = new Set<string>();
      for (const [b, e] of next) if (JSON.stringify(this.entries.get(b)) !== JSON.stringify(e)) changed.add(b);
      for (const b of this.entries.keys()) if (!next.has(b)) changed.add(b);
      this.entries = next;
      for (const b of changed) this.emit('change', b);
    });
  }

  get(bucket: string): MountEntry | undefined {
    return this.entries.get(bucket);
  }

  list(): MountEntry[] {
    return [...this.entries.values()].sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
  }

  /** Adds a mount; `check` runs inside the serialized section (e.g. "does the bucket exist already"). */
  add(entry: MountEntry, check?: (existing: MountEntry | undefined) => void): Promise<MountEntry> {
    return this.serialize(async () => {
      check?.(this.entries.get(entry.bucket));
      const next = new Map(this.entries).set(entry.bucket, entry);
      await this.store.save([...next.values()]);
      this.entries = next;
      this.emit('change', entry.bucket);
      return entry;
    });
  }

  /** Changes one entry in place (e.g. its tags); undefined when it is gone. */
  update(bucket: string, change: (entry: MountEntry) => MountEntry): Promise<MountEntry | undefined> {
    return this.serialize(async () => {
      const entry = this.entries.get(bucket);
      if (!entry) return undefined;
      const updated = change(entry);
      const next = new Map(this.entries).set(bucket, updated);
      await this.store.save([...next.values()]);
      this.entries = next;
      return updated;
    });
  }

  remove(bucket: string): Promise<MountEntry | undefined> {
    return this.serialize(async () => {
      const entry = this.entries.get(bucket);
      if (!entry) return undefined;
      const next = new Map(this.entries);
      next.delete(bucket);
      await this.store.save([...next.values()]);
      this.entries = next;
      this.emit('change', bucket);
      return entry;
    });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
