// The folder under-storage: objects are files below the mount's folder, folder objects are
// directories. What S3 keeps beside the bytes (ETag, Content-Type, user metadata, tags,
// checksums) lives in a sidecar record per file *inode* under `.strata.sys/meta/`, written
// before the data file is renamed into place: a reader that opened inode N reads record N, so
// data and metadata always match without locks, and a file changed behind Strata's back
// (different inode, size or mtime) is served as a foreign file with a derived ETag.
import { createHash, randomUUID } from 'node:crypto';
import { close, createWriteStream, type WriteStream, fdatasync as fdatasyncCb, fstat as fstatCb, open, promises as fsp, read as readCb, type Stats } from 'node:fs';
import { promisify } from 'node:util';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fromSystemError, StorageError } from './errors.js';
import { FileRangeBody } from './fileBody.js';
import { compareUtf8 } from './keyOrder.js';
import { keyToPath, SYSTEM_FOLDER } from './localKeys.js';
import { type LocalFileSteps, LocalMultipart } from './localMultipart.js';
import {
  type BodySource, type ByteRange, emptyMeta, type ListEntry, type ListPage, type ListRequest, type ObjectMeta, type ObjectRead,
  type ChangeCheck, type ObjectStatus, type PartInfo, type UnderStorage, type UploadInfo, type WrittenObject,
} from './ufs.js';

const openFd = promisify(open);
const closeFd = promisify(close);
const fdatasync = promisify(fdatasyncCb);
const fstat = promisify(fstatCb) as (fd: number) => Promise<Stats>;
const readFd = promisify(readCb);

/** What a sidecar holds: the inode it describes and the S3 view of it. */
interface MetaRecord {
  v: 1;
  key: string;
  ino: number;
  size: number;
  mtimeMs: number;
  etag: string;
  meta: ObjectMeta;
}

/** A file version known to have no record (written behind Strata's back). */
interface ForeignMark {
  foreign: true;
  key: string;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** ETag of an empty body: what S3 gives a folder object. */
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
/** Objects (or ranges) up to this size are read with one pread instead of a stream. */
const SMALL_READ = 256 * 1024;
const WRITE_CHUNK = 1024 * 1024;
const META_CACHE_ENTRIES = 50_000;
const STALE_TEMP_MS = 60 * 60 * 1000;
/** How long a change waits for another change of the same key. */
const LOCK_WAIT_MS = 30_000;
/** A key lock this old was left by a process that died holding it. */
const STALE_LOCK_MS = 60_000;
/** Parallel stat calls while filling a listing page. */
const LIST_STAT_PARALLEL = 64;

export interface LocalUfsOptions {
  /** fdatasync each object before it becomes visible. */
  fsync: boolean;
}

interface WalkItem {
  key: string;
  /** A common prefix rolled up by the delimiter, not an object. */
  isPrefix: boolean;
  isFolder: boolean;
}

export class LocalUfs implements UnderStorage, LocalFileSteps {
  private readonly tmpDir: string;
  private readonly metaDir: string;
  private readonly lockDir: string;
  private readonly multipart: LocalMultipart;
  /** Sidecar records by key (or the mark that a file has none), valid while the file's inode, size and mtime match. */
  private readonly records = new Map<string, MetaRecord | ForeignMark>();

  private constructor(readonly uri: string, private readonly root: string, private readonly options: LocalUfsOptions) {
    this.tmpDir = join(root, SYSTEM_FOLDER, 'tmp');
    this.metaDir = join(root, SYSTEM_FOLDER, 'meta');
    this.lockDir = join(root, SYSTEM_FOLDER, 'locks');
    this.multipart = new LocalMultipart(join(root, SYSTEM_FOLDER, 'uploads'), this);
  }

  get fsync(): boolean {
    return this.options.fsync;
  }

  checkKey(key: string): void {
    keyToPath(key);
  }

  static async open(uri: string, root: string, options: LocalUfsOptions): Promise<LocalUfs> {
    let st: Stats;
    try {
      st = await fsp.stat(root);
    } catch (e) {
      throw new StorageError('NotFound', `The folder ${root} does not exist.`, e);
    }
    if (!st.isDirectory()) throw new StorageError('Invalid', `${root} is not a folder.`);
    const ufs = new LocalUfs(uri, root, options);
    await fsp.mkdir(ufs.tmpDir, { recursive: true });
    await fsp.mkdir(ufs.metaDir, { recursive: true });
    await fsp.mkdir(ufs.lockDir, { recursive: true });
    await ufs.removeStaleTempFiles();
    return ufs;
  }

  /** The folder a key lives in (used by multipart staging on the same filesystem). */
  get rootFolder(): string {
    return this.root;
  }

  async close(): Promise<void> {
    this.records.clear();
  }

  forget(key: string): void {
    this.records.delete(key);
  }

  /** Temporary files of writes a killed worker never finished (older than an hour: not in flight). */
  private async removeStaleTempFiles(): Promise<void> {
    const cutoff = Date.now() - STALE_TEMP_MS;
    for (const name of await fsp.readdir(this.tmpDir)) {
      const path = join(this.tmpDir, name);
      const st = await fsp.stat(path).catch(() => null);
      if (st && st.mtimeMs < cutoff) await fsp.rm(path, { force: true, recursive: true });
    }
  }

  // ---- multipart (staged inside the mount; see localMultipart.ts) ----------------------

  createUpload(key: string, meta: ObjectMeta, checksum?: { algorithm: string; type: 'COMPOSITE' | 'FULL_OBJECT' }): Promise<UploadInfo> {
    return this.multipart.createUpload(key, meta, checksum);
  }

  getUpload(uploadId: string): Promise<UploadInfo | null> {
    return this.multipart.getUpload(uploadId);
  }

  listUploads(): Promise<UploadInfo[]> {
    return this.multipart.listUploads();
  }

  writePart(upload: UploadInfo, partNumber: number, body: BodySource, describe: () => { etag: string; checksums: Record<string, string> }): Promise<PartInfo> {
    return this.multipart.writePart(upload, partNumber, body, describe);
  }

  listParts(upload: UploadInfo): Promise<PartInfo[]> {
    return this.multipart.listParts(upload);
  }

  completeUpload(upload: UploadInfo, parts: PartInfo[], describe: () => WrittenObject, onData: (chunk: Buffer) => void, check?: ChangeCheck): Promise<ObjectStatus> {
    return this.multipart.completeUpload(upload, parts, describe, onData, check);
  }

  abortUpload(upload: UploadInfo): Promise<void> {
    return this.multipart.abortUpload(upload);
  }

  // ---- sidecar records ---------------------------------------------------------------

  private recordDir(key: string): string {
    const h = createHash('sha1').update(key).digest('hex');
    return join(this.metaDir, h.slice(0, 2), h);
  }

  private recordPath(key: string, ino: number): string {
    return join(this.recordDir(key), `${ino}.json`);
  }

  /** The record describing exactly this file (inode, size, mtime), or null for a foreign file. */
  private async recordFor(key: string, st: Stats, isFolder: boolean): Promise<MetaRecord | null> {
    const matches = (r: { ino: number; size: number; mtimeMs: number }) =>
      r.ino === st.ino && (isFolder || (r.size === st.size && r.mtimeMs === st.mtimeMs));
    const cached = this.records.get(key);
    if (cached && matches(cached)) return 'foreign' in cached ? null : cached;
    let rec: MetaRecord | null = null;
    try {
      rec = JSON.parse(await fsp.readFile(this.recordPath(key, st.ino), 'utf8')) as MetaRecord;
    } catch {
      rec = null;
    }
    if (rec && rec.key === key && matches(rec)) {
      this.remember(rec);
      return rec;
    }
    // Remember that this version of the file has no record, so the next read does not look again.
    this.remember({ foreign: true, key, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
    return null;
  }

  private remember(rec: MetaRecord | ForeignMark): void {
    if (this.records.size >= META_CACHE_ENTRIES) {
      const oldest = this.records.keys().next().value;
      if (oldest !== undefined) this.records.delete(oldest);
    }
    this.records.set(rec.key, rec);
  }

  private async writeRecord(rec: MetaRecord): Promise<void> {
    const dir = this.recordDir(rec.key);
    await fsp.mkdir(dir, { recursive: true });
    const tmp = join(dir, `.${randomUUID()}`);
    await fsp.writeFile(tmp, JSON.stringify(rec));
    await fsp.rename(tmp, this.recordPath(rec.key, rec.ino));
  }

  /** Drops the records of every inode but `keepIno` (older versions of the key). */
  private async dropRecords(key: string, keepIno?: number): Promise<void> {
    const dir = this.recordDir(key);
    if (keepIno === undefined) {
      this.records.delete(key);
      await fsp.rm(dir, { recursive: true, force: true });
      return;
    }
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      return;
    }
    await Promise.all(names.filter((n) => n !== `${keepIno}.json` && !n.startsWith('.')).map((n) => fsp.rm(join(dir, n), { force: true })));
  }

  private async hasFolderRecord(folderKey: string): Promise<boolean> {
    try {
      await fsp.access(this.recordDir(folderKey));
      return true;
    } catch {
      return false;
    }
  }

  // ---- status -------------------------------------------------------------------------

  private fileStatus(key: string, st: Stats, rec: MetaRecord | null): ObjectStatus {
    return {
      key,
      size: st.size,
      etag: rec ? rec.etag : foreignEtag(st),
      lastModified: st.mtime,
      isFolder: false,
      meta: rec ? rec.meta : emptyMeta(),
      version: `${st.ino}-${st.size}-${st.mtimeMs}`,
    };
  }

  private folderStatus(key: string, st: Stats, rec: MetaRecord | null): ObjectStatus {
    return {
      key,
      size: 0,
      etag: rec ? rec.etag : EMPTY_MD5,
      lastModified: rec ? new Date(rec.mtimeMs) : st.mtime,
      isFolder: true,
      meta: rec ? rec.meta : emptyMeta(),
      version: `${st.ino}-dir`,
    };
  }

  async stat(key: string): Promise<ObjectStatus | null> {
    const { rel, isFolder } = keyToPath(key);
    const abs = join(this.root, rel);
    let st: Stats;
    try {
      st = await fsp.stat(abs);
    } catch (e) {
      if (isMissing(e)) return null;
      throw fromSystemError(e, key);
    }
    if (isFolder) {
      if (!st.isDirectory()) return null;
      const rec = await this.recordFor(key, st, true);
      if (!rec && !(await isEmptyFolder(abs))) return null;
      return this.folderStatus(key, st, rec);
    }
    if (!st.isFile()) return null;
    return this.fileStatus(key, st, await this.recordFor(key, st, false));
  }

  // ---- read ---------------------------------------------------------------------------

  async read(key: string, pickRange: (size: number) => ByteRange | null): Promise<ObjectRead | null> {
    const { rel, isFolder } = keyToPath(key);
    if (isFolder) {
      const status = await this.stat(key);
      if (!status) return null;
      return { status, range: pickRange(0), body: Readable.from([]) };
    }
    let fd: number;
    try {
      fd = await openFd(join(this.root, rel), 'r');
    } catch (e) {
      if (isMissing(e) || (e as NodeJS.ErrnoException).code === 'EISDIR') return null;
      throw fromSystemError(e, key);
    }
    let owned = true;
    try {
      const st = await fstat(fd);
      if (!st.isFile()) return null;
      const status = this.fileStatus(key, st, await this.recordFor(key, st, false));
      const range = pickRange(st.size);
      const start = range ? range.start : 0;
      const end = range ? range.end : st.size - 1;
      const length = end - start + 1;
      if (length <= 0) return { status, range, body: Readable.from([]) };
      if (length <= SMALL_READ) {
        // One pread and done: cheaper than a stream for small objects, the common case of many workloads.
        const bytes = Buffer.allocUnsafe(length);
        const { bytesRead } = await readFd(fd, bytes, 0, length, start);
        const data = bytesRead === length ? bytes : bytes.subarray(0, bytesRead);
        return { status, range, body: Readable.from([data]), bytes: data };
      }
      owned = false;
      return { status, range, body: new FileRangeBody(fd, start, end) };
    } catch (e) {
      throw fromSystemError(e, key);
    } finally {
      // Nothing waits on the close: the bytes are read already.
      if (owned) void closeFd(fd).catch(() => undefined);
    }
  }

  // ---- write --------------------------------------------------------------------------

  async write(key: string, body: BodySource, describe: () => WrittenObject, check?: ChangeCheck): Promise<ObjectStatus> {
    const { rel, isFolder } = keyToPath(key);
    if (isFolder) return this.writeFolder(key, join(this.root, rel), body, describe, check);
    await this.makeParentFolder(key, rel);
    const tmp = this.newTempPath();
    const st = await this.streamToFile(tmp, body).catch((e) => {
      throw fromSystemError(e, key);
    });
    let written: WrittenObject;
    try {
      written = describe();
    } catch (e) {
      await fsp.rm(tmp, { force: true });
      throw e;
    }
    return this.commitFile(key, tmp, st, written, check);
  }

  /** A fresh path in the mount's temporary folder (same filesystem, so rename(2) is atomic). */
  newTempPath(): string {
    return join(this.tmpDir, randomUUID());
  }

  /**
   * Streams a body into a new file and returns its status (after fdatasync when configured);
   * the file is removed when anything fails.
   */
  async streamToFile(path: string, body: BodySource): Promise<Stats> {
    // A numeric fd, not a FileHandle: a FileHandle's write stream keeps it referenced, and
    // closing it after the stream (to fsync and stat first) would wait forever.
    let fd: number | undefined;
    let sink: WriteStream | undefined;
    try {
      fd = await openFd(path, 'wx');
      // autoClose: false leaves the fd open after a body that ended well (fdatasync and fstat
      // need it). A stream that is destroyed (a body that failed) closes the fd itself all the
      // same, once no write is in flight: closing it here too would close whatever file or
      // socket took that number in between.
      sink = createWriteStream('', { fd, highWaterMark: WRITE_CHUNK, autoClose: false });
      await pipeline([...body, sink]);
      if (this.options.fsync) await fdatasync(fd);
      const st = await fstat(fd);
      // Released even when close(2) reports an error: never closed a second time.
      const done = fd;
      fd = undefined;
      await closeFd(done);
      return st;
    } catch (e) {
      if (sink?.destroyed) await closedStream(sink);
      else if (fd !== undefined) await closeFd(fd).catch(() => undefined);
      await fsp.rm(path, { force: true }).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Makes a finished temporary file the object `key`: its record is written first (under the
   * file's inode), then rename(2) makes both visible at once. On failure both are removed.
   */
  async commitFile(key: string, tmp: string, st: Stats, written: WrittenObject, check?: ChangeCheck): Promise<ObjectStatus> {
    const { rel } = keyToPath(key);
    const rec: MetaRecord = { v: 1, key, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, etag: written.etag, meta: written.meta };
    let recordWritten = false;
    try {
      await this.withKeyLock(key, async () => {
        if (check) check(await this.stat(key));
        const parent = await this.makeParentFolder(key, rel);
        await this.writeRecord(rec);
        recordWritten = true;
        await this.renameIntoPlace(tmp, join(this.root, rel), parent, key);
      });
    } catch (e) {
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      if (recordWritten) await fsp.rm(this.recordPath(key, st.ino), { force: true }).catch(() => undefined);
      throw fromSystemError(e, key);
    }
    this.remember(rec);
    await this.dropRecords(key, st.ino);
    return this.fileStatus(key, st, rec);
  }

  /**
   * Runs `fn` while holding the key's lock, a file made with O_EXCL in `.strata.sys/locks/`, so
   * that a check and the change it guards are atomic across every process using this folder.
   * Every change of a key takes it (a conditional write must see unconditional ones too); it is
   * held for a few system calls. A lock older than STALE_LOCK_MS was left by a dead process.
   */
  private async withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const path = join(this.lockDir, createHash('sha1').update(key).digest('hex'));
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
      try {
        await fsp.writeFile(path, `${hostname()} ${process.pid}`, { flag: 'wx' });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (await isAbandonedLock(path)) {
          await fsp.rm(path, { force: true });
          continue;
        }
        if (Date.now() > deadline) throw new StorageError('Unavailable', `${key}: another change of this key is taking too long`);
        await new Promise((r) => setTimeout(r, pause));
      }
    }
    try {
      return await fn();
    } finally {
      await fsp.rm(path, { force: true });
    }
  }

  private async makeParentFolder(key: string, rel: string): Promise<string> {
    const parent = rel.includes('/') ? join(this.root, rel.slice(0, rel.lastIndexOf('/'))) : this.root;
    await this.makeFolder(parent, key);
    return parent;
  }

  /** rename(2), retried when a concurrent delete pruned the freshly made parent folder. */
  private async renameIntoPlace(tmp: string, abs: string, parent: string, key: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fsp.rename(tmp, abs);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' && attempt < 3) {
          await this.makeFolder(parent, key);
          continue;
        }
        if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') {
          throw new StorageError('Conflict', `A folder named "${key}/" exists on this folder mount, so an object "${key}" cannot be written.`);
        }
        throw e;
      }
    }
  }

  private async makeFolder(abs: string, key: string): Promise<void> {
    try {
      await fsp.mkdir(abs, { recursive: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTDIR') {
        throw new StorageError('Conflict', `A parent of "${key}" is an object on this folder mount, so it cannot also be a folder.`);
      }
      throw e;
    }
  }

  private async writeFolder(key: string, abs: string, body: BodySource, describe: () => WrittenObject, check?: ChangeCheck): Promise<ObjectStatus> {
    let size = 0;
    const counter = new Writable({
      write(chunk: Buffer, _enc, done) {
        size += chunk.length;
        done();
      },
    });
    await pipeline([...body, counter]);
    if (size > 0) throw new StorageError('Invalid', `A folder object ("${key}") cannot hold data on a folder mount.`);
    const written = describe();
    return this.withKeyLock(key, async () => {
      if (check) check(await this.stat(key));
      await this.makeFolder(abs, key);
      const st = await fsp.stat(abs);
      if (!st.isDirectory()) throw new StorageError('Conflict', `An object "${key.slice(0, -1)}" exists, so the folder "${key}" cannot be made.`);
      const rec: MetaRecord = { v: 1, key, ino: st.ino, size: 0, mtimeMs: Date.now(), etag: written.etag, meta: written.meta };
      await this.dropRecords(key);
      await this.writeRecord(rec);
      this.remember(rec);
      return this.folderStatus(key, st, rec);
    });
  }

  async updateMeta(key: string, update: (meta: ObjectMeta) => ObjectMeta): Promise<ObjectStatus> {
    const { rel, isFolder } = keyToPath(key);
    const abs = join(this.root, rel);
    let st: Stats;
    try {
      st = await fsp.stat(abs);
    } catch (e) {
      throw fromSystemError(e, key);
    }
    if (isFolder ? !st.isDirectory() : !st.isFile()) throw new StorageError('NotFound', `${key}: not found`);
    const current = await this.recordFor(key, st, isFolder);
    const base = current ?? {
      v: 1 as const, key, ino: st.ino, size: isFolder ? 0 : st.size, mtimeMs: isFolder ? Date.now() : st.mtimeMs,
      etag: isFolder ? EMPTY_MD5 : foreignEtag(st), meta: emptyMeta(),
    };
    const rec: MetaRecord = { ...base, meta: update(structuredClone(base.meta)) };
    await this.writeRecord(rec);
    this.remember(rec);
    return isFolder ? this.folderStatus(key, st, rec) : this.fileStatus(key, st, rec);
  }

  // ---- delete -------------------------------------------------------------------------

  async delete(key: string, check?: ChangeCheck): Promise<void> {
    const { rel, isFolder } = keyToPath(key);
    const abs = join(this.root, rel);
    await this.withKeyLock(key, async () => {
      if (check) check(await this.stat(key));
      if (isFolder) {
        await this.dropRecords(key);
        try {
          await fsp.rmdir(abs);
        } catch (e) {
          if (!isMissing(e) && (e as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw fromSystemError(e, key);
        }
      } else {
        try {
          await fsp.unlink(abs);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          // A folder of that name is not the object `key`: nothing to delete.
          if (!isMissing(e) && code !== 'EISDIR' && code !== 'EPERM') throw fromSystemError(e, key);
        }
        await this.dropRecords(key);
      }
    });
    await this.pruneEmptyParents(rel);
  }

  /**
   * Removes the folders a deleted key leaves empty, up to the mount's root, as S3 has no
   * folders but the ones written as `dir/` objects (which keep a record and are kept).
   */
  private async pruneEmptyParents(rel: string): Promise<void> {
    let dir = rel;
    while (dir.includes('/')) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      if (await this.hasFolderRecord(`${dir}/`)) return;
      try {
        await fsp.rmdir(join(this.root, dir));
      } catch {
        return;
      }
    }
  }

  // ---- listing ------------------------------------------------------------------------

  async isEmpty(): Promise<boolean> {
    const names = await fsp.readdir(this.root);
    return names.every((n) => n === SYSTEM_FOLDER);
  }

  async list(req: ListRequest): Promise<ListPage> {
    const page: ListPage = { entries: [], commonPrefixes: [], isTruncated: false };
    if (req.maxKeys <= 0) return page;
    const found: WalkItem[] = [];
    let lastPrefix: string | undefined;
    // Every key under the prefix lies in the deepest folder the prefix names in full.
    const startKey = req.prefix.includes('/') ? req.prefix.slice(0, req.prefix.lastIndexOf('/') + 1) : '';
    // No key a folder can hold has an empty, "." or ".." segment: such a prefix matches nothing.
    if (startKey !== '' && startKey.slice(0, -1).split('/').some((s) => s === '' || s === '.' || s === '..')) return page;
    const walk = startKey === '' ? this.walk('', '', req, false) : this.walk(startKey.slice(0, -1), startKey, req, true);
    for await (const item of walk) {
      let entry = item;
      if (!item.isPrefix && req.delimiter) {
        const i = item.key.indexOf(req.delimiter, req.prefix.length);
        if (i >= 0) entry = { key: item.key.slice(0, i + req.delimiter.length), isPrefix: true, isFolder: false };
      }
      if (entry.isPrefix) {
        if (entry.key === lastPrefix || entry.key === req.after) continue;
        lastPrefix = entry.key;
      }
      if (found.length === req.maxKeys) {
        page.isTruncated = true;
        break;
      }
      found.push(entry);
    }
    await walk.return(undefined);
    page.last = found.length ? found[found.length - 1].key : undefined;
    for (const f of found) if (f.isPrefix) page.commonPrefixes.push(f.key);
    page.entries = await this.describeEntries(found.filter((f) => !f.isPrefix));
    return page;
  }

  private async describeEntries(items: WalkItem[]): Promise<ListEntry[]> {
    const out: Array<ListEntry | null> = new Array(items.length).fill(null);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const i = next++;
        const status = await this.stat(items[i].key).catch(() => null);
        if (status) {
          out[i] = { key: status.key, size: status.size, etag: status.etag, lastModified: status.lastModified, owner: status.meta.owner, isFolder: status.isFolder };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LIST_STAT_PARALLEL, items.length) }, worker));
    // An entry that vanished between the walk and its stat is left out.
    return out.filter((e): e is ListEntry => e !== null);
  }

  /**
   * Yields the keys under `dirKey` in S3 order (UTF-8 bytes of the whole key), skipping
   * subtrees outside the prefix or before the marker, and rolling a folder into one common
   * prefix when the delimiter makes it one (without reading it).
   */
  private async *walk(dirRel: string, dirKey: string, req: ListRequest, isFolderObject: boolean): AsyncGenerator<WalkItem> {
    const abs = dirRel === '' ? this.root : join(this.root, dirRel);
    let dirents;
    try {
      dirents = await fsp.readdir(abs, { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw fromSystemError(e, dirKey);
    }
    const items: Array<{ name: string; isDir: boolean; key: string }> = [];
    for (const d of dirents) {
      if (dirRel === '' && d.name === SYSTEM_FOLDER) continue;
      let isDir = d.isDirectory();
      let isFile = d.isFile();
      if (d.isSymbolicLink()) {
        const st = await fsp.stat(join(abs, d.name)).catch(() => null);
        if (!st) continue;
        isDir = st.isDirectory();
        isFile = st.isFile();
      }
      if (!isDir && !isFile) continue;
      items.push({ name: d.name, isDir, key: dirKey + d.name + (isDir ? '/' : '') });
    }
    // The folder itself is an object when it was written as one (it has a record) or is empty.
    if (isFolderObject && inRange(dirKey, req) && (items.length === 0 || (await this.hasFolderRecord(dirKey)))) {
      yield { key: dirKey, isPrefix: false, isFolder: true };
    }
    items.sort((a, b) => compareUtf8(a.key, b.key));
    for (const it of items) {
      if (!it.isDir) {
        if (inRange(it.key, req)) yield { key: it.key, isPrefix: false, isFolder: false };
        continue;
      }
      if (!it.key.startsWith(req.prefix) && !req.prefix.startsWith(it.key)) continue;
      const cmp = compareUtf8(it.key, req.after);
      if (req.after !== '' && cmp < 0 && !req.after.startsWith(it.key)) continue; // whole subtree before the marker
      if (req.delimiter && it.key.startsWith(req.prefix)) {
        const i = it.key.indexOf(req.delimiter, req.prefix.length);
        if (i >= 0) {
          const prefix = it.key.slice(0, i + req.delimiter.length);
          // All keys of this folder share `prefix`: one common prefix, if any key of it is after the marker.
          if (prefix === req.after) continue;
          if (compareUtf8(prefix, req.after) > 0 || (await this.anyKeyAfter(dirRel ? `${dirRel}/${it.name}` : it.name, it.key, req))) {
            yield { key: prefix, isPrefix: true, isFolder: false };
          }
          continue;
        }
      }
      yield* this.walk(dirRel ? `${dirRel}/${it.name}` : it.name, it.key, req, true);
    }
  }

  private async anyKeyAfter(dirRel: string, dirKey: string, req: ListRequest): Promise<boolean> {
    const sub = this.walk(dirRel, dirKey, { ...req, delimiter: '' }, true);
    const first = await sub.next();
    await sub.return(undefined);
    return !first.done;
  }
}

/**
 * A lock left by a process that is gone: one of this host whose pid no longer runs (a worker
 * killed while changing a key), or one older than STALE_LOCK_MS (another host's, on a shared folder).
 */
async function isAbandonedLock(path: string): Promise<boolean> {
  const [text, st] = await Promise.all([fsp.readFile(path, 'utf8').catch(() => ''), fsp.stat(path).catch(() => null)]);
  if (!st) return false;
  if (Date.now() - st.mtimeMs > STALE_LOCK_MS) return true;
  const [host, pid] = text.split(' ');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function inRange(key: string, req: ListRequest): boolean {
  return key.startsWith(req.prefix) && (req.after === '' || compareUtf8(key, req.after) > 0);
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

async function isEmptyFolder(abs: string): Promise<boolean> {
  const dir = await fsp.opendir(abs);
  try {
    return (await dir.read()) === null;
  } finally {
    await dir.close().catch(() => undefined);
  }
}

/**
 * ETag of a file written behind Strata's back: derived from its identity, not its bytes (which
 * would mean reading the whole file on HEAD). The `-1` suffix marks it, like a multipart ETag,
 * as not an MD5 of the content, so clients do not check downloads against it.
 */
function foreignEtag(st: Stats): string {
  return `${createHash('md5').update(`${st.ino}:${st.size}:${st.mtimeMs}`).digest('hex')}-1`;
}

/** Resolves once a destroyed write stream has closed its fd ('close' comes after the close(2)). */
function closedStream(stream: WriteStream): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}
