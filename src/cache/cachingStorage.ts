// The cache in front of one mount's under-storage, as an UnderStorage itself, so the object
// service needs no change to use it and it works over any adapter.
//
// Reads: object status comes from the metadata cache while it is younger than the sync interval
// (strata.user.file.metadata.sync.interval: -1 never re-check, 0 always); the bytes come from
// cached pages of that exact version, and missing pages are fetched from the under-storage as
// ranged reads of whole pages. A page fetched for one version is never mixed with another: a fetch
// that finds the object changed refreshes the status and starts over (before anything was sent).
// Writes are CACHE_THROUGH: the under-storage first, then the cached status and pages follow.
import { Readable, type Writable } from 'node:stream';
import { StorageError } from '../ufs/errors.js';
import { drained, type SendableBody } from '../ufs/fileBody.js';
import type {
  BodySource, ByteRange, ChangeCheck, ListPage, ListRequest, ObjectMeta, ObjectRead, ObjectStatus, PartInfo, UnderStorage, UploadInfo, WrittenObject,
} from '../ufs/ufs.js';
import { fileRef, type FileRef, type Lease, MEMORY_PAGE_LIMIT, type PageFetch, type PageStore } from './pageStore.js';

export interface CachingOptions {
  /** The bucket: part of every page's identity. */
  mount: string;
  pages: PageStore;
  /** -1: never re-check; 0: always; else milliseconds. */
  syncIntervalMs: number;
  /** Pages fetched ahead of a sequential read. */
  prefetchPages: number;
  /**
   * Keep listings for the sync interval. Off in a cluster: a write goes to its key's owner, and a
   * listing served by another worker must see it at once (docs/cache.md).
   */
  cacheListings?: boolean;
  /** Cached status or listing served because the under-storage could not be reached. */
  onStale?: (op: string, key: string, e: unknown) => void;
}

const META_ENTRIES = 100_000;
const LIST_ENTRIES = 1_000;
const SEQUENTIAL_ENTRIES = 10_000;
/** How long the pages of a replaced version stay for reads in flight. */
const FREE_REPLACED_MS = 60_000;

type CopyFrom = (source: UnderStorage, sourceKey: string, key: string, meta: ObjectMeta, check?: ChangeCheck) => Promise<ObjectStatus | null>;

/** A PageFetch over a stream it keeps open between pages; close() gives it up. */
type Fetcher = PageFetch & { close(): void };

/** The object changed in the under-storage while its pages were read. */
class VersionChanged extends StorageError {
  constructor(key: string) {
    super('Unavailable', `${key} changed in the under-storage while it was read (a read never mixes two versions)`);
  }
}

export class CachingStorage implements UnderStorage {
  private readonly meta = new Map<string, { status: ObjectStatus | null; at: number }>();
  private readonly lists = new Map<string, { page: ListPage; at: number }>();
  /** Where the last read of a key ended, to see sequential ranged reads. */
  private readonly lastEnd = new Map<string, number>();
  private readonly files = new WeakMap<ObjectStatus, FileRef>();

  /**
   * Server-side copy, only when the adapter has one (it is given the source's adapter, not its
   * cache); then the target's cached status follows, as for a write.
   */
  readonly copyFrom?: CopyFrom;

  constructor(readonly inner: UnderStorage, private readonly o: CachingOptions) {
    const copy = (inner as { copyFrom?: CopyFrom }).copyFrom;
    if (typeof copy === 'function') {
      this.copyFrom = async (source, sourceKey, key, meta, check) => {
        this.meta.delete(key);
        try {
          const s = await copy.call(inner, source instanceof CachingStorage ? source.inner : source, sourceKey, key, meta, check);
          if (s) this.setMeta(key, s);
          return s;
        } finally {
          this.changed(key);
        }
      };
    }
  }

  get uri(): string {
    return this.inner.uri;
  }

  private fresh(at: number): boolean {
    const i = this.o.syncIntervalMs;
    if (i < 0) return true;
    return i > 0 && Date.now() - at < i;
  }

  private setMeta(key: string, status: ObjectStatus | null): void {
    this.meta.delete(key);
    this.meta.set(key, { status, at: Date.now() });
    if (this.meta.size > META_ENTRIES) this.meta.delete(this.meta.keys().next().value as string);
  }

  /** The status of a key: cached while fresh; cached even when stale if the store cannot answer. */
  async stat(key: string): Promise<ObjectStatus | null> {
    const c = this.meta.get(key);
    if (c && this.fresh(c.at)) return c.status;
    return this.refresh(key, c?.status);
  }

  /** The status as the storage has it now (conditional writes); the cache takes it too. */
  statFresh(key: string): Promise<ObjectStatus | null> {
    return this.refresh(key);
  }

  private async refresh(key: string, stale?: ObjectStatus | null): Promise<ObjectStatus | null> {
    try {
      const s = await this.inner.stat(key);
      this.setMeta(key, s);
      return s;
    } catch (e) {
      if (stale !== undefined && unreachable(e)) {
        this.o.onStale?.('stat', key, e);
        return stale;
      }
      throw e;
    }
  }

  async read(key: string, pickRange: (size: number) => ByteRange | null): Promise<ObjectRead | null> {
    let status = await this.stat(key);
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!status) return null;
      if (status.isFolder || status.size === 0) return this.inner.read(key, pickRange);
      const range = pickRange(status.size);
      const start = range ? range.start : 0;
      const end = range ? range.end : status.size - 1;
      const file = this.fileOf(key, status);
      const ps = this.o.pages.pageSize;
      const fetch = this.fetcher(key, file, Math.min(file.size, (Math.floor(end / ps) + 1) * ps) - 1);
      const first = Math.floor(start / ps);
      const last = Math.floor(end / ps);
      let page: Lease;
      try {
        page = await this.o.pages.lease(file, first, fetch);
      } catch (e) {
        if (!(e instanceof VersionChanged)) throw e;
        // Changed behind the cache: look again, once, with the new version.
        status = await this.refresh(key);
        continue;
      }
      this.prefetchAfter(key, file, start, end);
      // Within one small page (memory's, nothing to release): the bytes as they are. A slice of a
      // large page goes through PagedBody, which gives the page's buffer back once it is sent.
      if (first === last && this.o.pages.pageLength(file, first) <= MEMORY_PAGE_LIMIT) {
        const bytes = page.data.subarray(start - first * ps, end - first * ps + 1);
        return smallRead(status, range, bytes);
      }
      return { status, range, body: new PagedBody(this.o.pages, file, fetch, start, end, page, this.o.prefetchPages) };
    }
    // Changing faster than it can be read page by page: read it straight through.
    return this.inner.read(key, pickRange);
  }

  /** The cache's name of this version of the object (hashes computed once per cached status). */
  private fileOf(key: string, status: ObjectStatus): FileRef {
    let f = this.files.get(status);
    if (!f) {
      f = fileRef(this.o.mount, key, status.version, status.size);
      this.files.set(status, f);
    }
    return f;
  }

  /**
   * Fetches pages of exactly this version. Pages asked for in order come from one ranged read
   * of the under-storage up to `end` (one snapshot: a read that overlaps a replacement of the
   * object still gets one version whole, and a cold read is one stream, not a round trip per
   * page); a page asked for out of order opens a new read from there.
   */
  private fetcher(key: string, file: FileRef, end = file.size - 1): Fetcher {
    let stream: StreamReader | undefined;
    let queue: Promise<unknown> = Promise.resolve();
    let closed = false;
    const open = async (start: number, pageEnd: number): Promise<StreamReader> => {
      // Once closed (the reader went away), a late fetch reads its page only: nothing stays open.
      const last = closed ? pageEnd : Math.max(end, start);
      const r = await this.inner.read(key, () => ({ start, end: last }), { bytesOnly: true });
      if (!r || r.status.version !== file.version) {
        r?.body.destroy();
        this.meta.delete(key);
        throw new VersionChanged(key);
      }
      return new StreamReader(r.bytes ?? r.body, start, last);
    };
    const gap = 2 * this.o.pages.pageSize;
    const fetch = async (start: number, last: number): Promise<Buffer> => {
      // A page the stream passed to reach a later one (asked for out of order): kept, not read again.
      const passed = stream?.passed(start, last);
      if (passed) return passed;
      // Behind, past the end, or far ahead (pages between were cached): a new read from here.
      if (!stream || stream.position > start || stream.end < last || start - stream.position > gap) {
        stream?.destroy();
        stream = await open(start, last);
      }
      const s = stream;
      try {
        await s.skipTo(start);
        const page = await s.take(last - start + 1);
        if (s.position > s.end) {
          s.destroy();
          stream = undefined;
        }
        return page;
      } catch (e) {
        s.destroy();
        stream = undefined;
        throw e;
      }
    };
    const f = ((start: number, last: number) => {
      const p = queue.then(() => fetch(start, last));
      queue = p.catch(() => undefined);
      return p;
    }) as Fetcher;
    f.close = () => {
      closed = true;
      // After the fetches already asked for.
      void queue.then(() => {
        stream?.destroy();
        stream = undefined;
      });
    };
    return f;
  }

  /** After consecutive reads of one key, the next pages are fetched before they are asked for. */
  private prefetchAfter(key: string, file: FileRef, start: number, end: number): void {
    const depth = this.o.prefetchPages;
    if (depth <= 0) return;
    const previous = this.lastEnd.get(key);
    this.lastEnd.delete(key);
    this.lastEnd.set(key, end);
    if (this.lastEnd.size > SEQUENTIAL_ENTRIES) this.lastEnd.delete(this.lastEnd.keys().next().value as string);
    if (previous === undefined || previous + 1 !== start) return;
    const ps = this.o.pages.pageSize;
    const next = Math.floor(end / ps) + 1;
    const count = this.o.pages.pageCount(file);
    const stop = Math.min(next + depth, count);
    if (stop <= next) return;
    const fetch = this.fetcher(key, file, Math.min(file.size, stop * ps) - 1);
    const all = [];
    for (let i = next; i < stop; i++) all.push(this.o.pages.prefetch(file, i, fetch).catch(() => undefined));
    void Promise.all(all).then(() => fetch.close());
  }

  /** Brings every page of an object into the cache (`strata cache load`); returns its size. */
  async warm(key: string, onBytes: (n: number) => void): Promise<number> {
    const status = await this.stat(key);
    if (!status || status.isFolder || status.size === 0) return 0;
    const file = fileRef(this.o.mount, key, status.version, status.size);
    const fetch = this.fetcher(key, file);
    const count = this.o.pages.pageCount(file);
    let next = 0;
    // Lanes keep a few pages in flight; fetches share one stream in order.
    const lane = async () => {
      while (next < count) {
        const i = next++;
        await this.o.pages.get(file, i, fetch);
        onBytes(this.o.pages.pageLength(file, i));
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.max(1, this.o.prefetchPages) }, lane));
    } finally {
      fetch.close();
    }
    return status.size;
  }

  // ---- writes: the under-storage first, then the cache follows ----------------------------

  private changed(key: string): void {
    this.lists.clear();
    // The old version's pages are never served for the new one; their room is freed a little
    // later, so that reads of the old version still in flight finish on them.
    const t = setTimeout(() => {
      const current = this.meta.get(key)?.status;
      const keep = current ? this.fileOf(key, current).vh : undefined;
      void this.o.pages.index.free(this.o.mount, key, true, keep).catch(() => undefined);
    }, FREE_REPLACED_MS);
    t.unref();
  }

  /** `extra`: arguments of newer adapters (write hints), passed through as they are. */
  async write(key: string, body: BodySource, describe: () => WrittenObject, check?: ChangeCheck, ...extra: unknown[]): Promise<ObjectStatus> {
    this.meta.delete(key);
    try {
      const s = await (this.inner.write as (...a: unknown[]) => Promise<ObjectStatus>).call(this.inner, key, body, describe, check, ...extra);
      this.setMeta(key, s);
      return s;
    } finally {
      this.changed(key);
    }
  }

  async updateMeta(key: string, update: (meta: ObjectMeta) => ObjectMeta): Promise<ObjectStatus> {
    this.meta.delete(key);
    const s = await this.inner.updateMeta(key, update);
    this.setMeta(key, s);
    this.lists.clear();
    return s;
  }

  async delete(key: string, check?: ChangeCheck): Promise<void> {
    this.meta.delete(key);
    try {
      await this.inner.delete(key, check);
      this.setMeta(key, null);
    } finally {
      this.changed(key);
    }
  }

  async completeUpload(upload: UploadInfo, parts: PartInfo[], describe: () => WrittenObject, onData: (chunk: Buffer) => void, check?: ChangeCheck): Promise<ObjectStatus> {
    this.meta.delete(upload.key);
    try {
      const s = await this.inner.completeUpload(upload, parts, describe, onData, check);
      this.setMeta(upload.key, s);
      return s;
    } finally {
      this.changed(upload.key);
    }
  }

  async list(request: ListRequest): Promise<ListPage> {
    if (this.o.cacheListings === false) return this.inner.list(request);
    const id = JSON.stringify([request.prefix, request.delimiter, request.after, request.maxKeys]);
    const c = this.lists.get(id);
    if (c && this.fresh(c.at)) return c.page;
    try {
      const page = await this.inner.list(request);
      this.lists.delete(id);
      this.lists.set(id, { page, at: Date.now() });
      if (this.lists.size > LIST_ENTRIES) this.lists.delete(this.lists.keys().next().value as string);
      return page;
    } catch (e) {
      if (c && unreachable(e)) {
        this.o.onStale?.('list', request.prefix, e);
        return c.page;
      }
      throw e;
    }
  }

  /** Another process changed the key: forget what is cached about it here. */
  forget(key: string): void {
    this.meta.delete(key);
    this.lists.clear();
    this.inner.forget(key);
  }

  /** `strata cache free`: forget the status of keys under a prefix too. */
  forgetPrefix(prefix: string): void {
    for (const key of [...this.meta.keys()]) if (key.startsWith(prefix)) this.meta.delete(key);
    this.lists.clear();
  }

  // ---- the rest goes straight through --------------------------------------------------------

  createUpload(key: string, meta: ObjectMeta, checksum?: { algorithm: string; type: 'COMPOSITE' | 'FULL_OBJECT' }): Promise<UploadInfo> {
    return this.inner.createUpload(key, meta, checksum);
  }
  getUpload(uploadId: string): Promise<UploadInfo | null> {
    return this.inner.getUpload(uploadId);
  }
  listUploads(): Promise<UploadInfo[]> {
    return this.inner.listUploads();
  }
  writePart(upload: UploadInfo, partNumber: number, body: BodySource, describe: () => { etag: string; checksums: Record<string, string> }, ...extra: unknown[]): Promise<PartInfo> {
    return (this.inner.writePart as (...a: unknown[]) => Promise<PartInfo>).call(this.inner, upload, partNumber, body, describe, ...extra);
  }
  listParts(upload: UploadInfo): Promise<PartInfo[]> {
    return this.inner.listParts(upload);
  }
  abortUpload(upload: UploadInfo): Promise<void> {
    return this.inner.abortUpload(upload);
  }
  isEmpty(): Promise<boolean> {
    return this.inner.isEmpty();
  }
  close(): Promise<void> {
    this.meta.clear();
    this.lists.clear();
    return this.inner.close();
  }
}

/** A read whose bytes are at hand: the stream is made only if someone asks for it (the GET path uses `bytes`). */
function smallRead(status: ObjectStatus, range: ByteRange | null, bytes: Buffer): ObjectRead {
  let body: Readable | undefined;
  return {
    status,
    range,
    bytes,
    get body() {
      body ??= Readable.from([bytes]);
      return body;
    },
  };
}

/** Errors that mean "the store did not answer", for which cached data is served instead. */
function unreachable(e: unknown): boolean {
  return e instanceof StorageError ? e.kind === 'Unavailable' : true;
}

/** Reads a body of bytes [position, end] in pieces of chosen sizes. */
class StreamReader {
  private readonly it?: AsyncIterator<Buffer>;
  private rest: Buffer = Buffer.alloc(0);

  constructor(private readonly source: Readable | Buffer, public position: number, readonly end: number) {
    if (Buffer.isBuffer(source)) this.rest = source;
    else this.it = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  /** Bytes skipped by the last skipTo (at most a few pages), for a page asked for late. */
  private skipped?: { start: number; data: Buffer };

  async skipTo(offset: number): Promise<void> {
    if (this.position >= offset) return;
    const start = this.position;
    const data = await this.take(offset - start);
    this.skipped = { start, data };
  }

  /** Bytes [start, last] if the last skip passed over them. */
  passed(start: number, last: number): Buffer | undefined {
    const k = this.skipped;
    if (!k || start < k.start || last >= k.start + k.data.length) return undefined;
    return k.data.subarray(start - k.start, last - k.start + 1);
  }

  async take(length: number): Promise<Buffer> {
    // Bytes handed in whole when the stream gave exactly a page (no copy).
    if (this.rest.length === length) return this.advance(this.rest, Buffer.alloc(0));
    if (this.rest.length === 0 && this.it) {
      const first = await this.next();
      if (first.length === length) return this.advance(first, Buffer.alloc(0));
      this.rest = first;
    }
    const out = Buffer.allocUnsafeSlow(length);
    let filled = 0;
    while (filled < length) {
      if (this.rest.length === 0) this.rest = await this.next();
      const n = Math.min(this.rest.length, length - filled);
      this.rest.copy(out, filled, 0, n);
      this.rest = this.rest.subarray(n);
      filled += n;
    }
    this.position += length;
    return out;
  }

  private advance(chunk: Buffer, rest: Buffer): Buffer {
    this.rest = rest;
    this.position += chunk.length;
    return chunk;
  }

  private async next(): Promise<Buffer> {
    const r = this.it ? await this.it.next() : { done: true as const, value: undefined };
    if (r.done) throw new StorageError('Unavailable', `the under-storage ended the object early, at byte ${this.position}`);
    return r.value;
  }

  destroy(): void {
    if (!Buffer.isBuffer(this.source)) this.source.destroy();
  }
}

/**
 * The bytes [start, end] of a file, page by page: at most `depth` pages ahead are fetched while
 * one is sent, so memory stays a few pages whatever the size, and a cold read is not one round
 * trip per page. sendTo writes to a response with its backpressure.
 */
class PagedBody extends Readable implements SendableBody {
  private readonly ps: number;
  private readonly lastPage: number;
  private next: number;
  private readonly window = new Map<number, Promise<Lease>>();

  constructor(
    private readonly pages: PageStore,
    private readonly file: FileRef,
    private readonly fetch: Fetcher,
    private readonly start: number,
    private readonly end: number,
    firstPage: Lease,
    private readonly depth: number,
  ) {
    super({ highWaterMark: 0 });
    this.ps = pages.pageSize;
    this.next = Math.floor(start / this.ps);
    this.lastPage = Math.floor(end / this.ps);
    this.window.set(this.next, Promise.resolve(firstPage));
  }

  private page(i: number): Promise<Lease> {
    for (let j = i; j <= Math.min(i + this.depth, this.lastPage); j++) {
      if (this.window.has(j)) continue;
      const p = this.pages.lease(this.file, j, this.fetch);
      // Failures are met when the page is awaited; one never awaited (client gone) is ignored.
      p.catch(() => undefined);
      this.window.set(j, p);
    }
    const p = this.window.get(i)!;
    this.window.delete(i);
    return p;
  }

  /** The part of page i inside the range. */
  private slice(i: number, buf: Buffer): Buffer {
    const base = i * this.ps;
    const from = Math.max(this.start - base, 0);
    const to = Math.min(this.end - base + 1, buf.length);
    return from === 0 && to === buf.length ? buf : buf.subarray(from, to);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    for (const p of this.window.values()) p.then((l) => l.release(), () => undefined);
    this.window.clear();
    this.fetch.close();
    callback(error);
  }

  override _read(): void {
    if (this.next > this.lastPage) {
      this.push(null);
      return;
    }
    const i = this.next++;
    this.page(i).then(
      // A pushed buffer belongs to the consumer: it is not given back to the pool.
      ({ data }) => {
        this.push(this.slice(i, data));
        if (this.next > this.lastPage) this.push(null);
      },
      (e: Error) => this.destroy(e),
    );
  }

  async sendTo(out: Writable): Promise<void> {
    try {
      while (this.next <= this.lastPage) {
        const i = this.next++;
        const { data, release } = await this.page(i);
        if (out.destroyed) {
          release();
          throw new Error('the client went away');
        }
        // The buffer goes back to the pool once the socket took its bytes.
        const more = out.write(this.slice(i, data), (err) => {
          if (!err) release();
        });
        if (!more && this.next <= this.lastPage) await drained(out);
      }
      out.end();
    } finally {
      this.destroy();
    }
  }
}

