// The object service: S3 semantics over the mount table and the under-storage adapters.
// Actions call it with decoded requests; it answers with statuses, streams and domain errors.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { MountEntry, MountTable } from '../namespace/mountTable.js';
import { StorageError } from '../ufs/errors.js';
import { openUnderStorage, type UfsSettings } from '../ufs/factory.js';
import type {
  BodySource, ByteRange, ListPage, ListRequest, ObjectMeta, ObjectRead, ObjectStatus, UnderStorage, WriteHints, WrittenObject,
} from '../ufs/ufs.js';
import { changeCheck, checkConditions, hasConditions, type WriteConditions } from './conditions.js';
import { fromStorage, ObjectError } from './errors.js';
import { ALONE, type Change, type Siblings } from './siblings.js';
import { instrumented, type UfsObserver } from './instrumentedStorage.js';
import { CachingStorage } from '../cache/cachingStorage.js';
import { loadPrefix, type LoadProgress } from '../cache/cacheLoad.js';
import { type CacheStats, type PageCache, parseCachePath } from '../cache/pageCache.js';

export interface ObjectServiceOptions {
  /** Folder where CreateBucket makes a folder per bucket; '' refuses CreateBucket. */
  rootUfs: string;
  fsync: boolean;
  /** The worker's work folder and S3 mount defaults (ufs/factory.ts UfsSettings). */
  workDir?: string;
  s3Defaults?: Record<string, string>;
  /** The other processes of this worker, told of changes before they are acknowledged. */
  siblings?: Siblings;
  /** Told of every under-storage call (metrics). */
  observeUfs?: UfsObserver;
  /** The page cache, put in front of every mount's storage (docs/cache.md). */
  cache?: PageCache;
}

export class ObjectService {
  private readonly storages = new Map<string, Promise<UnderStorage>>();

  constructor(readonly mounts: MountTable, private readonly options: ObjectServiceOptions) {
    // A changed mount is reopened on next use.
    mounts.on('change', (bucket: string) => {
      const s = this.storages.get(bucket);
      this.storages.delete(bucket);
      s?.then((u) => u.close()).catch(() => undefined);
    });
  }

  private get ufsSettings(): UfsSettings {
    return { fsync: this.options.fsync, workDir: this.options.workDir, s3Defaults: this.options.s3Defaults };
  }

  private get siblings(): Siblings {
    return this.options.siblings ?? ALONE;
  }

  /** Applies a change another process of this worker announced. */
  async applyChange(change: Change): Promise<void> {
    if (change.kind === 'mounts') {
      await this.mounts.reload();
    } else if (change.kind === 'cache-free') {
      this.options.cache?.pages.forgetMemory();
      const s = this.storages.get(change.bucket);
      const u = await s?.catch(() => undefined);
      if (u instanceof CachingStorage) u.forgetPrefix(change.prefix);
    } else {
      const s = this.storages.get(change.bucket);
      if (s) (await s.catch(() => undefined))?.forget(change.key);
    }
  }

  async close(): Promise<void> {
    await this.options.cache?.close();
    const all = [...this.storages.values()];
    this.storages.clear();
    await Promise.all(all.map((p) => p.then((u) => u.close()).catch(() => undefined)));
  }

  /** The storage behind a bucket; NoSuchBucket when it is not mounted. */
  async storage(bucket: string): Promise<UnderStorage> {
    let s = this.storages.get(bucket);
    if (!s) {
      const entry = this.mounts.get(bucket);
      if (!entry) throw new ObjectError('NoSuchBucket', `The specified bucket does not exist: ${bucket}`, { BucketName: bucket });
      const observe = this.options.observeUfs;
      const cache = this.options.cache;
      s = openUnderStorage(entry.ufsUri, entry.options, this.ufsSettings)
        .then((u) => (observe ? instrumented(u, bucket, observe) : u))
        .then((u) => (cache ? cache.wrap(u, bucket) : u));
      this.storages.set(bucket, s);
      s.catch(() => this.storages.delete(bucket));
    }
    try {
      return await s;
    } catch (e) {
      if (e instanceof StorageError) {
        throw new ObjectError('ServiceUnavailable', `The storage of bucket ${bucket} cannot be opened: ${e.message}`);
      }
      throw e;
    }
  }

  /** Runs an adapter call for a bucket, mapping its errors to domain errors. */
  private async on<T>(bucket: string, fn: (u: UnderStorage) => Promise<T>): Promise<T> {
    const u = await this.storage(bucket);
    try {
      return await fn(u);
    } catch (e) {
      const err = fromStorage(e, bucket);
      // The bucket went while the call ran (a write whose bucket was deleted under it): say so.
      if (err instanceof ObjectError && err.code === 'NoSuchKey' && !this.mounts.get(bucket)) {
        throw new ObjectError('NoSuchBucket', undefined, { BucketName: bucket });
      }
      throw err;
    }
  }

  // ---- buckets ------------------------------------------------------------------------

  listBuckets(): MountEntry[] {
    return this.mounts.list();
  }

  async headBucket(bucket: string): Promise<MountEntry> {
    await this.storage(bucket);
    return this.mounts.get(bucket)!;
  }

  async createBucket(bucket: string, owner: string): Promise<MountEntry> {
    checkBucketName(bucket);
    const existing = this.mounts.get(bucket);
    if (existing) throw alreadyExists(existing, owner);
    if (!this.options.rootUfs) {
      throw new ObjectError('InvalidRequest', 'CreateBucket is not enabled on this worker (strata.root.ufs is not set); make a bucket with `strata mount add --path /<bucket> --ufs-uri file:///<folder>` instead.');
    }
    const folder = join(this.options.rootUfs, bucket);
    await fsp.mkdir(folder, { recursive: true });
    const entry = await this.mounts.add(
      { bucket, ufsUri: `file://${folder}`, options: {}, createdAt: new Date().toISOString(), owner, origin: 'bucket' },
      (current) => {
        if (current) throw alreadyExists(current, owner);
      },
    );
    await this.siblings.announce({ kind: 'mounts' });
    return entry;
  }

  /** `strata mount add`: makes an existing storage visible as a bucket; the storage must open. */
  async addMount(path: string, ufsUri: string, options: Record<string, string>, owner: string): Promise<MountEntry> {
    const bucket = path.replace(/^\/+/, '').replace(/\/+$/, '');
    if (bucket.includes('/')) throw new ObjectError('InvalidArgument', `A mount path names one bucket at the root ("/<bucket>"), not "${path}".`);
    checkBucketName(bucket);
    if (this.mounts.get(bucket)) throw new ObjectError('BucketAlreadyExists', `Bucket ${bucket} is already mounted.`, { BucketName: bucket });
    try {
      const u = await openUnderStorage(ufsUri, options, this.ufsSettings);
      await u.close();
    } catch (e) {
      if (e instanceof StorageError) throw new ObjectError('InvalidArgument', `Cannot mount ${ufsUri}: ${e.message}`);
      throw e;
    }
    const entry = await this.mounts.add(
      { bucket, ufsUri, options, createdAt: new Date().toISOString(), owner, origin: 'mount' },
      (current) => {
        if (current) throw new ObjectError('BucketAlreadyExists', `Bucket ${bucket} is already mounted.`, { BucketName: bucket });
      },
    );
    await this.siblings.announce({ kind: 'mounts' });
    return entry;
  }

  /** `strata mount remove`: the bucket disappears; its data stays where it is. */
  async removeMount(path: string): Promise<MountEntry> {
    const bucket = path.replace(/^\/+/, '').replace(/\/+$/, '');
    const removed = await this.mounts.remove(bucket);
    if (!removed) throw new ObjectError('NoSuchBucket', `No mount at /${bucket}.`, { BucketName: bucket });
    await this.siblings.announce({ kind: 'mounts' });
    return removed;
  }

  async deleteBucket(bucket: string): Promise<void> {
    const entry = this.mounts.get(bucket);
    if (!entry) throw new ObjectError('NoSuchBucket', undefined, { BucketName: bucket });
    if (entry.origin !== 'bucket') {
      throw new ObjectError('InvalidRequest', `Bucket ${bucket} is a mount of ${entry.ufsUri}; remove it with \`strata mount remove /${bucket}\`, which leaves its data in place.`);
    }
    if (!(await this.on(bucket, (u) => u.isEmpty()))) throw new ObjectError('BucketNotEmpty', undefined, { BucketName: bucket });
    await this.mounts.remove(bucket);
    await this.siblings.announce({ kind: 'mounts' });
    if (entry.ufsUri.startsWith('file://')) {
      const folder = entry.ufsUri.slice('file://'.length);
      await fsp.rm(folder, { recursive: true, force: true });
    }
  }

  async setBucketTags(bucket: string, tags: Array<[string, string]>): Promise<void> {
    const updated = await this.mounts.update(bucket, (entry) => ({ ...entry, tags }));
    if (!updated) throw new ObjectError('NoSuchBucket', undefined, { BucketName: bucket });
    await this.siblings.announce({ kind: 'mounts' });
  }

  // ---- objects ------------------------------------------------------------------------

  async headObject(bucket: string, key: string): Promise<ObjectStatus> {
    const status = await this.on(bucket, (u) => u.stat(key));
    if (!status) throw noSuchKey(key);
    return status;
  }

  async getObject(bucket: string, key: string, pickRange: (size: number) => ByteRange | null): Promise<ObjectRead> {
    const read = await this.on(bucket, (u) => u.read(key, pickRange));
    if (!read) throw noSuchKey(key);
    return read;
  }

  /** Writes an object; with conditions, they are checked before the body is read and again atomically at the commit. */
  async putObject(bucket: string, key: string, body: BodySource, describe: () => WrittenObject, conditions?: WriteConditions, hints?: WriteHints): Promise<ObjectStatus> {
    await this.checkEarly(bucket, key, conditions);
    const status = await this.on(bucket, (u) => u.write(key, body, describe, changeCheck(conditions, key), hints));
    await this.objectChanged(bucket, key);
    return status;
  }

  /**
   * With a cache, the other processes forget what they cached of a key before its change is
   * acknowledged (their metadata cache may trust it for the whole sync interval otherwise).
   */
  async objectChanged(bucket: string, key: string): Promise<void> {
    if (this.options.cache) await this.siblings.announce({ kind: 'object-meta', bucket, key });
  }

  /** True when the target bucket's store may copy from the source's by itself (both adapters can copy). */
  async canCopyWithinStore(sourceBucket: string, bucket: string): Promise<boolean> {
    const [from, to] = await Promise.all([this.storage(sourceBucket), this.storage(bucket)]);
    return typeof from.copyFrom === 'function' && typeof to.copyFrom === 'function';
  }

  /**
   * Server-side copy when both buckets live in one store that can copy (S3 mounts of one
   * endpoint); null when the caller must stream the bytes instead.
   */
  async copyWithinStore(source: { bucket: string; key: string }, bucket: string, key: string, meta: ObjectMeta, conditions?: WriteConditions): Promise<ObjectStatus | null> {
    const [from, to] = await Promise.all([this.storage(source.bucket), this.storage(bucket)]);
    if (!to.copyFrom) return null;
    await this.checkEarly(bucket, key, conditions);
    const status = await this.on(bucket, async (u) => (u.copyFrom ? u.copyFrom(from, source.key, key, meta, changeCheck(conditions, key)) : null));
    if (status) await this.objectChanged(bucket, key);
    return status;
  }

  /** Fails fast on conditions that do not hold now (they are checked again atomically later). */
  async checkEarly(bucket: string, key: string, conditions: WriteConditions | undefined): Promise<void> {
    if (!hasConditions(conditions)) return;
    // Conditions are checked against the storage itself, never a cached status.
    const current = await this.on(bucket, (u) => (u instanceof CachingStorage ? u.statFresh(key) : u.stat(key)));
    checkConditions(conditions, current, key);
  }

  async updateMeta(bucket: string, key: string, update: (meta: ObjectMeta) => ObjectMeta): Promise<ObjectStatus> {
    await this.headObject(bucket, key);
    const status = await this.on(bucket, (u) => u.updateMeta(key, update));
    await this.siblings.announce({ kind: 'object-meta', bucket, key });
    return status;
  }

  async deleteObject(bucket: string, key: string, conditions?: WriteConditions): Promise<void> {
    await this.on(bucket, (u) => u.delete(key, changeCheck(conditions, key)));
    await this.objectChanged(bucket, key);
  }

  listObjects(bucket: string, request: ListRequest): Promise<ListPage> {
    return this.on(bucket, (u) => u.list(request));
  }

  // ---- page cache (admin API) -------------------------------------------------------------

  private get cache(): PageCache {
    if (!this.options.cache) throw new ObjectError('InvalidRequest', 'The page cache is disabled on this worker (strata.worker.page.store.enabled=false).');
    return this.options.cache;
  }

  cacheStats(): Promise<CacheStats> {
    return this.cache.stats();
  }

  /** `strata cache free /<bucket>/<prefix>`: drops the cached pages of keys under the prefix. */
  async cacheFree(path: string): Promise<{ bucket: string; prefix: string; pages: number; bytes: number }> {
    const { bucket, prefix } = this.cachePath(path);
    const freed = await this.cache.free(bucket, prefix);
    await this.siblings.announce({ kind: 'cache-free', bucket, prefix });
    return { bucket, prefix, ...freed };
  }

  /** `strata cache load /<bucket>/<prefix>`: brings every object under the prefix into the cache. */
  async cacheLoad(path: string, progress: (p: LoadProgress) => void): Promise<LoadProgress> {
    const { bucket, prefix } = await this.cacheTarget(path);
    return loadPrefix({
      listObjects: (b, r) => this.listObjects(b, r),
      warm: (b, key, onBytes) => this.on(b, (u) => (u instanceof CachingStorage ? u.warm(key, onBytes) : Promise.resolve(0))),
    }, bucket, prefix, progress);
  }

  /** Checks a cache path names a mounted bucket whose storage opens (before an answer starts). */
  async cacheTarget(path: string): Promise<{ bucket: string; prefix: string }> {
    const target = this.cachePath(path);
    await this.storage(target.bucket);
    return target;
  }

  private cachePath(path: string): { bucket: string; prefix: string } {
    let parsed: { bucket: string; prefix: string };
    try {
      parsed = parseCachePath(path);
    } catch (e) {
      throw new ObjectError('InvalidArgument', (e as Error).message);
    }
    void this.cache;
    if (!this.mounts.get(parsed.bucket)) throw new ObjectError('NoSuchBucket', `No bucket ${parsed.bucket} on this worker.`, { BucketName: parsed.bucket });
    return parsed;
  }
}

function noSuchKey(key: string): ObjectError {
  return new ObjectError('NoSuchKey', undefined, { Key: key });
}

function alreadyExists(existing: MountEntry, owner: string): ObjectError {
  return existing.owner === owner
    ? new ObjectError('BucketAlreadyOwnedByYou', undefined, { BucketName: existing.bucket })
    : new ObjectError('BucketAlreadyExists', undefined, { BucketName: existing.bucket });
}

/** S3's bucket naming rules (the general-purpose bucket rules of the AWS documentation). */
export function checkBucketName(name: string): void {
  const bad = (why: string) => new ObjectError('InvalidBucketName', `The specified bucket is not valid: "${name}" ${why}.`, { BucketName: name });
  if (name.length < 3 || name.length > 63) throw bad('must be 3 to 63 characters long');
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) throw bad('may hold only lower-case letters, digits, dots and hyphens, and must begin and end with a letter or digit');
  if (name.includes('..') || name.includes('.-') || name.includes('-.')) throw bad('must not have two adjacent periods, or a period next to a hyphen');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) throw bad('must not be formatted as an IP address');
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.endsWith('-s3alias') || name.endsWith('--ol-s3')) throw bad('uses a reserved prefix or suffix');
}
