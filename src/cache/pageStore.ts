// The pages of this process's view of the cache: reads a page from the memory tier or from disk
// (checked), and on a miss claims it in the index, fetches it once from the under-storage and
// writes it. Every cache failure (disk full, I/O error, unwritable folder) is counted and the
// page is served from the under-storage instead: the cache never fails a request.
import { access, close, mkdir, open, read, rename, rm, writev } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { CacheIndexApi } from './cacheIndex.js';
import { checkPage, diskBytes, dirOf, encodePage, fileHash, HEADER_BYTES, pageId, versionHash } from './pageFile.js';

const openFd = promisify(open);
const readFd = promisify(read);
const closeFd = promisify(close);
const writevFd = promisify(writev);
const renameP = promisify(rename);
const mkdirP = promisify(mkdir);
const rmP = promisify(rm);
const accessP = promisify(access);

/** Pages up to this size may live in the memory tier (small objects and the tails of large ones). */
export const MEMORY_PAGE_LIMIT = 256 * 1024;

export interface CacheObserver {
  hit(bytes: number, tier: 'memory' | 'disk'): void;
  miss(): void;
  /** Bytes of pages fetched from the under-storage. */
  fetched(bytes: number): void;
  /** Bytes of a missed page that another request put on disk meanwhile (served from the cache). */
  fromCache(bytes: number): void;
  corrupt(): void;
  failure(op: string, e: unknown): void;
}

const NO_OBSERVER: CacheObserver = { hit() {}, miss() {}, fetched() {}, fromCache() {}, corrupt() {}, failure() {} };

/** One version of one object, as the cache names it (hashes computed once per read). */
export interface FileRef {
  mount: string;
  key: string;
  version: string;
  size: number;
  fh: string;
  vh: string;
}

export function fileRef(mount: string, key: string, version: string, size: number): FileRef {
  return { mount, key, version, size, fh: fileHash(mount, key), vh: versionHash(version) };
}

export interface PageStoreOptions {
  dirs: string[];
  pageSize: number;
  memoryBytes: number;
  index: CacheIndexApi;
  observer?: CacheObserver;
}

/** Page buffers kept for reuse per process. */
const POOL_LIMIT = 32;
const NO_RELEASE = () => undefined;

/** Large pages whose disk reads are remembered for admission to memory. */
const SEEN_LIMIT = 4096;

interface Held {
  buf: Buffer;
  data: Buffer;
  /** Sends holding it; its buffer is reused only after it was dropped and this is 0. */
  refs: number;
  dropped: boolean;
}

/** A page's bytes and how to give their buffer back when done with them. */
export interface Lease {
  data: Buffer;
  release: () => void;
}

/** Fetches bytes [start, end] of the file's version from the under-storage. */
export type PageFetch = (start: number, end: number) => Promise<Buffer>;

export class PageStore {
  readonly pageSize: number;
  private readonly dirs: string[];
  private readonly observer: CacheObserver;
  private readonly inflight = new Map<string, Promise<Buffer>>();
  private readonly memory = new Map<string, Buffer>();
  private memoryUsed = 0;
  private readonly madeDirs = new Set<string>();
  private readonly writes = new Set<Promise<void>>();
  private readonly pool: Buffer[] = [];
  /** Hot large pages in memory, in pooled buffers shared by the sends that lease them. */
  private readonly held = new Map<string, Held>();
  private heldUsed = 0;
  /** Recent disk reads of large pages, for admission to memory. */
  private readonly seen = new Map<string, number>();
  private tmpSeq = 0;

  constructor(private readonly opts: PageStoreOptions) {
    this.pageSize = opts.pageSize;
    this.dirs = opts.dirs;
    this.observer = opts.observer ?? NO_OBSERVER;
  }

  get index(): CacheIndexApi {
    return this.opts.index;
  }

  pageCount(file: FileRef): number {
    return Math.ceil(file.size / this.pageSize);
  }

  pageLength(file: FileRef, index: number): number {
    return Math.min(this.pageSize, file.size - index * this.pageSize);
  }

  /**
   * The page's bytes: from memory, disk, a fetch under way, or the under-storage. `diskChecked`:
   * the caller just found no page file, so a new read starts at the index's claim.
   */
  get(file: FileRef, index: number, fetch: PageFetch, diskChecked = false): Promise<Buffer> {
    const id = pageId(file.fh, file.vh, index);
    const mem = this.memory.get(id);
    if (mem) {
      // Refresh its place in the memory tier's LRU, and in the disk's eviction order.
      this.memory.delete(id);
      this.memory.set(id, mem);
      this.opts.index.touch(id);
      this.observer.hit(mem.length, 'memory');
      return Promise.resolve(mem);
    }
    const shared = this.inflight.get(id);
    if (shared) {
      // Joined a fetch or read under way: one under-storage read serves both.
      return shared.then((b) => {
        this.observer.fromCache(b.length);
        return b;
      });
    }
    const p = this.load(file, index, id, fetch, diskChecked);
    this.inflight.set(id, p);
    const clear = () => this.inflight.delete(id);
    p.then(clear, clear);
    return p;
  }

  /**
   * The page for sending to a socket: a large page read from disk comes in a pooled buffer that
   * `release` gives back once the socket took it (fresh 1 MiB buffers cost more in page faults
   * than the read itself). Anything else is `get`'s buffer, with nothing to release.
   */
  async lease(file: FileRef, index: number, fetch: PageFetch): Promise<Lease> {
    const length = this.pageLength(file, index);
    const id = pageId(file.fh, file.vh, index);
    if (length <= MEMORY_PAGE_LIMIT) return { data: await this.get(file, index, fetch), release: NO_RELEASE };
    const h = this.held.get(id);
    if (h) {
      // A hot large page kept in memory (checked when it was read): no read, no checksum.
      this.held.delete(id);
      this.held.set(id, h);
      h.refs++;
      this.opts.index.touch(id);
      this.observer.hit(length, 'memory');
      return { data: h.data, release: () => this.unref(h) };
    }
    if (this.inflight.has(id)) return { data: await this.get(file, index, fetch), release: NO_RELEASE };
    const buf = this.pool.pop() ?? Buffer.allocUnsafeSlow(HEADER_BYTES + this.pageSize);
    const data = await this.readDisk(id, length, buf);
    if (data) {
      this.opts.index.touch(id);
      this.observer.hit(length, 'disk');
      if (this.admit(id)) {
        const kept: Held = { buf, data, refs: 1, dropped: false };
        this.held.set(id, kept);
        this.heldUsed += buf.length;
        this.trimMemory();
        return { data, release: () => this.unref(kept) };
      }
      return { data, release: () => this.giveBack(buf) };
    }
    this.giveBack(buf);
    return { data: await this.get(file, index, fetch, true), release: NO_RELEASE };
  }

  /**
   * Brings a page in ahead of its read. A small page is read as `get` does (memory keeps it); a
   * large one that is in memory, on its way, or has a page file is left alone (checked when it is
   * read, not now: memory would not keep it, so reading it here would be thrown away).
   */
  async prefetch(file: FileRef, index: number, fetch: PageFetch): Promise<void> {
    if (this.pageLength(file, index) <= MEMORY_PAGE_LIMIT) {
      await this.get(file, index, fetch);
      return;
    }
    const id = pageId(file.fh, file.vh, index);
    if (this.held.has(id) || this.inflight.has(id)) return;
    const onDisk = await accessP(join(this.dirs[dirOf(id, this.dirs.length)], id)).then(() => true, () => false);
    if (!onDisk) await this.get(file, index, fetch, true);
  }

  /** A large page goes to memory on its second read from disk, when memory holds several. */
  private admit(id: string): boolean {
    if (this.opts.memoryBytes < 4 * (HEADER_BYTES + this.pageSize) || this.held.has(id)) return false;
    const n = (this.seen.get(id) ?? 0) + 1;
    this.seen.delete(id);
    if (n >= 2) return true;
    this.seen.set(id, n);
    if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.keys().next().value as string);
    return false;
  }

  /** A lease of a held page ends; a page dropped from memory meanwhile gives its buffer back now. */
  private unref(h: Held): void {
    h.refs--;
    if (h.dropped && h.refs === 0) this.giveBack(h.buf);
  }

  /** Takes a large page out of memory; its buffer is reused only once no send holds it. */
  private drop(id: string, h: Held): void {
    this.held.delete(id);
    this.heldUsed -= h.buf.length;
    h.dropped = true;
    if (h.refs === 0) this.giveBack(h.buf);
  }

  private trimMemory(): void {
    while (this.memoryUsed + this.heldUsed > this.opts.memoryBytes) {
      const big = this.held.entries().next();
      if (!big.done) {
        this.drop(big.value[0], big.value[1]);
        continue;
      }
      const small = this.memory.entries().next();
      if (small.done) return;
      this.memory.delete(small.value[0]);
      this.memoryUsed -= small.value[1].length;
    }
  }

  private giveBack(buf: Buffer): void {
    if (this.pool.length < POOL_LIMIT) this.pool.push(buf);
  }

  /** Waits for the pages being written (a graceful stop keeps them). */
  async drain(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /** Empties this process's memory tier (`cache free`). Writes need not: a new version has new page ids. */
  forgetMemory(): void {
    this.memory.clear();
    this.memoryUsed = 0;
    for (const [id, h] of [...this.held]) this.drop(id, h);
    this.seen.clear();
  }

  private async load(file: FileRef, index: number, id: string, fetch: PageFetch, diskChecked: boolean): Promise<Buffer> {
    const length = this.pageLength(file, index);
    const cached = diskChecked ? null : await this.readDisk(id, length);
    if (cached) {
      this.opts.index.touch(id);
      this.observer.hit(length, 'disk');
      this.remember(id, cached);
      return cached;
    }
    this.observer.miss();
    const dir = dirOf(id, this.dirs.length);
    let answer: 'fetch' | 'ready' | 'skip';
    try {
      answer = await this.opts.index.claim({ id, dir, bytes: diskBytes(length), mount: file.mount, key: file.key, fh: file.fh, vh: file.vh });
    } catch (e) {
      this.observer.failure('claim', e);
      answer = 'skip';
    }
    if (answer === 'ready') {
      // Another process fetched it meanwhile, or the index knows a page that is gone or bad.
      const now = await this.readDisk(id, length);
      if (now) {
        this.observer.fromCache(length);
        this.remember(id, now);
        return now;
      }
      this.opts.index.lost(id);
      answer = 'skip';
    }
    const start = index * this.pageSize;
    let data: Buffer;
    try {
      data = await fetch(start, start + length - 1);
      if (data.length !== length) throw new Error(`the under-storage gave ${data.length} bytes of a ${length}-byte page`);
    } catch (e) {
      if (answer === 'fetch') this.opts.index.done(id, false);
      throw e;
    }
    this.observer.fetched(length);
    if (answer === 'fetch') {
      // Written in the background: the client does not wait for the cache.
      const w = this.writePage(dir, id, file, index, data).then((ok) => this.opts.index.done(id, ok));
      this.writes.add(w);
      void w.finally(() => this.writes.delete(w));
    }
    this.remember(id, data);
    return data;
  }

  private remember(id: string, data: Buffer): void {
    if (data.length > MEMORY_PAGE_LIMIT || this.opts.memoryBytes <= 0) return;
    this.memory.set(id, data);
    this.memoryUsed += data.length;
    this.trimMemory();
  }

  /** A page from disk, checked; null when missing, corrupt (counted) or unreadable (counted). */
  private async readDisk(id: string, length: number, into?: Buffer): Promise<Buffer | null> {
    const path = join(this.dirs[dirOf(id, this.dirs.length)], id);
    let fd: number;
    try {
      fd = await openFd(path, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.observer.failure('read', e);
      return null;
    }
    try {
      const buf = into ?? Buffer.allocUnsafeSlow(HEADER_BYTES + length);
      const { bytesRead } = await readFd(fd, buf, 0, HEADER_BYTES + length, 0);
      if (checkPage(buf, bytesRead, length) !== 'ok') {
        this.observer.corrupt();
        // Removed before anyone fetches a good page to put in its place.
        await rmP(path, { force: true }).catch(() => undefined);
        this.opts.index.lost(id);
        return null;
      }
      return buf.subarray(HEADER_BYTES, HEADER_BYTES + length);
    } catch (e) {
      this.observer.failure('read', e);
      return null;
    } finally {
      void closeFd(fd).catch(() => undefined);
    }
  }

  /** Writes a page atomically (temporary file, then rename); false when the disk refused it. */
  private async writePage(dir: number, id: string, file: FileRef, index: number, data: Buffer): Promise<boolean> {
    const root = this.dirs[dir];
    const path = join(root, id);
    const tmp = join(root, '.tmp', `${process.pid}-${++this.tmpSeq}`);
    let fd: number | undefined;
    try {
      await this.ensureDir(join(root, '.tmp'));
      const { header, trailer } = encodePage({ mount: file.mount, key: file.key, version: file.version, index }, data);
      fd = await openFd(tmp, 'w');
      const total = header.length + data.length + trailer.length;
      const { bytesWritten } = await writevFd(fd, [header, data, trailer]);
      if (bytesWritten !== total) throw Object.assign(new Error('short write of a cache page'), { code: 'ENOSPC' });
      // Released even when close(2) reports an error: never closed a second time.
      const done = fd;
      fd = undefined;
      await closeFd(done);
      try {
        await renameP(tmp, path);
      } catch (e) {
        // The file's folder is made on first use (and removed by eviction with its last page).
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        await mkdirP(dirname(path), { recursive: true });
        await renameP(tmp, path);
      }
      return true;
    } catch (e) {
      this.observer.failure('write', e);
      if (fd !== undefined) await closeFd(fd).catch(() => undefined);
      await rmP(tmp, { force: true }).catch(() => undefined);
      // A folder removed behind our back is made again next time.
      this.madeDirs.clear();
      return false;
    }
  }

  private async ensureDir(path: string): Promise<void> {
    if (this.madeDirs.has(path)) return;
    await mkdirP(path, { recursive: true });
    if (this.madeDirs.size > 10_000) this.madeDirs.clear();
    this.madeDirs.add(path);
  }
}
