// The S3 under-storage: a bucket (and optional prefix) of an S3 store, through @aws-sdk/client-s3
// over a keep-alive agent. Keys map to `<prefix><key>`; listings are the store's own (prefix mapped
// in and out), so paging and delimiters are the store's. Every call is bounded: a connect timeout,
// a socket-silence timeout, and a total timeout for calls without a streamed body; failures become
// StorageErrors naming the store (503 for an unreachable or failing store).
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { finished, pipeline } from 'node:stream';
import {
  CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListObjectsV2Command,
  PutObjectCommand, PutObjectTaggingCommand, S3Client, type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StorageError } from '../errors.js';
import { compareUtf8 } from '../keyOrder.js';
import type {
  BodySource, ByteRange, ChangeCheck, ListEntry, ListPage, ListRequest, ObjectMeta, ObjectRead, ObjectStatus, PartInfo, ReadHints, UnderStorage,
  UploadInfo, WriteHints, WrittenObject,
} from '../ufs.js';
import { fromS3Error, isNotFound, statusOf } from './s3Errors.js';
import { fromStoreHead, isFolderKey, sameStoredMeta, type StoreHead, tagQuery, toStoreChecksums, toStoreHeaders, toStoreMetadata, unquote } from './s3Meta.js';
import { S3Multipart } from './s3Multipart.js';
import { parseS3Options, type S3UfsOptions } from './s3Options.js';

/** S3's largest single PUT; larger bodies go as a multipart upload. */
const MAX_SINGLE_PUT = 5 * 1024 ** 3;
/** S3's longest key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;
const FAR = Number.MAX_SAFE_INTEGER;

export interface S3UfsSettings {
  /** Folder for the index of multipart uploads (the worker's work folder). */
  workDir?: string;
  /** Worker-wide defaults of the mount options (strata.underfs.s3.* configuration). */
  defaults?: Record<string, string>;
}

type Conditions = { IfMatch?: string; IfNoneMatch?: string };

export class S3Ufs implements UnderStorage {
  readonly client: S3Client;
  /** Same connections, no retries: a streamed body cannot be sent twice. */
  readonly writeClient: S3Client;
  readonly bucket: string;
  private readonly prefix: string;
  private readonly multipart: S3Multipart;
  /** Identity of the store (endpoint, bucket, credentials): server-side copy needs both sides on one. */
  readonly storeId: string;

  private constructor(readonly uri: string, readonly options: S3UfsOptions, settings: S3UfsSettings) {
    this.bucket = options.bucket;
    this.prefix = options.prefix;
    const agent = { keepAlive: true, maxSockets: options.maxConnections, maxFreeSockets: options.maxConnections };
    const requestHandler = new NodeHttpHandler({
      httpAgent: new HttpAgent(agent),
      httpsAgent: new HttpsAgent(agent),
      connectionTimeout: options.connectTimeoutMs,
      requestTimeout: options.socketTimeoutMs,
    });
    const base: S3ClientConfig = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      requestHandler,
      // Strata verified the bytes already; and not every S3-compatible store takes aws-chunked trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Failures surface as StorageErrors; the SDK's own console warnings would only repeat them.
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    };
    this.client = new S3Client({ ...base, maxAttempts: options.maxErrorRetry + 1 });
    this.writeClient = new S3Client({ ...base, maxAttempts: 1 });
    this.storeId = JSON.stringify([options.endpoint ?? 'aws', options.region, options.credentials?.accessKeyId ?? 'chain']);
    const hash = createHash('sha1').update(`${this.storeId}|${this.bucket}|${this.prefix}`).digest('hex').slice(0, 16);
    this.multipart = new S3Multipart(this, join(settings.workDir ?? join(tmpdir(), 'strata-s3'), 'ufs-s3', hash, 'uploads'));
  }

  /** Opens an S3 mount; the store's bucket must answer (so a bad mount fails at `mount add`). */
  static async open(uri: string, raw: Record<string, string>, settings: S3UfsSettings = {}): Promise<S3Ufs> {
    const ufs = new S3Ufs(uri, parseS3Options(uri, raw, settings.defaults), settings);
    try {
      await ufs.call('ListObjectsV2', (signal) => ufs.client.send(new ListObjectsV2Command({ Bucket: ufs.bucket, Prefix: ufs.prefix, MaxKeys: 1 }), { abortSignal: signal }));
    } catch (e) {
      await ufs.close();
      throw e;
    }
    return ufs;
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.writeClient.destroy();
  }

  forget(): void {
    // Nothing is cached here.
  }

  /** Where a key lives in the store. */
  storeKey(key: string): string {
    const k = this.prefix + key;
    if (key === '') throw new StorageError('InvalidKey', 'An empty key cannot be stored.');
    if (Buffer.byteLength(k) > MAX_KEY_BYTES) throw new StorageError('KeyTooLong', `"${key}" with the mount's prefix "${this.prefix}" is longer than the store's ${MAX_KEY_BYTES} bytes.`);
    return k;
  }

  /** Runs a store call with the total timeout; maps its failure. */
  async call<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.options.requestTimeoutMs);
    try {
      return await fn(ac.signal);
    } catch (e) {
      if (ac.signal.aborted) throw new StorageError('Unavailable', `${what} on ${this.uri}: no answer within ${this.options.requestTimeoutMs} ms (underfs.s3.request.timeout)`, e);
      throw fromS3Error(e, this.uri, what);
    } finally {
      clearTimeout(timer);
    }
  }

  // ---- status and reads ------------------------------------------------------------------

  private status(key: string, h: StoreHead, size: number, tags: Array<[string, string]>): ObjectStatus {
    const etag = unquote(h.ETag ?? '');
    return {
      key, size, etag, lastModified: h.LastModified ?? new Date(0), isFolder: isFolderKey(key, size), meta: fromStoreHead(h, tags),
      // ETag and size, not a VersionId: what write() can name too, and the same bytes are the same version.
      version: `${etag}:${size}`,
    };
  }

  private async tags(key: string): Promise<Array<[string, string]>> {
    try {
      const out = await this.call('GetObjectTagging', (signal) => this.client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: this.storeKey(key) }), { abortSignal: signal }));
      return (out.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']);
    } catch (e) {
      // A store without object tagging has no tags; a vanished object is found out by the caller.
      if (e instanceof StorageError && (e.kind === 'Invalid' || e.kind === 'NotFound')) return [];
      throw e;
    }
  }

  async stat(key: string): Promise<ObjectStatus | null> {
    // The tags in parallel: HEAD does not list them, and not every store tells their count.
    const [head, tags] = await Promise.all([this.head(key), this.tags(key)]);
    if (!head) return null;
    return this.status(key, head, head.ContentLength ?? 0, tags);
  }

  private head(key: string): Promise<StoreHead | null> {
    const storeKey = this.storeKey(key);
    return this.call('HeadObject', (signal) => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: storeKey, ChecksumMode: 'ENABLED' }), { abortSignal: signal }))
      .catch((e) => {
        if (e instanceof StorageError && (e.kind === 'NotFound' || isNotFound(e.cause))) return null;
        throw e;
      });
  }

  /**
   * One GET in the common case: the range is guessed from `pickRange` with a huge size (a
   * `bytes=a-b` or `bytes=a-` range does not depend on it), and checked once the real size is
   * known; only a suffix range, an empty object or a wrong guess costs a second request.
   */
  async read(key: string, pickRange: (size: number) => ByteRange | null, hints?: ReadHints): Promise<ObjectRead | null> {
    const storeKey = this.storeKey(key);
    const tags = !hints?.bytesOnly;
    let guess: ByteRange | null | 'unknown';
    try {
      guess = pickRange(FAR);
    } catch {
      guess = 'unknown'; // refused without the size (bytes=-0): a missing object is still NoSuchKey
    }
    let header: string | undefined;
    if (guess && guess !== 'unknown' && guess.start < FAR / 2) header = guess.end >= FAR - 1 ? `bytes=${guess.start}-` : `bytes=${guess.start}-${guess.end}`;
    if (guess && !header) {
      // A suffix range: its start needs the size.
      const st = await this.stat(key);
      if (!st) return null;
      const range = pickRange(st.size);
      header = range ? `bytes=${range.start}-${range.end}` : undefined;
    }
    const got = await this.get(key, storeKey, header, tags);
    if (got === 'range') {
      // The range starts past the end (or the object is empty): the size decides what to answer.
      const st = await this.stat(key);
      if (!st) return null;
      const range = pickRange(st.size);
      const again = await this.get(key, storeKey, range ? `bytes=${range.start}-${range.end}` : undefined, tags);
      if (again === null || again === 'range') return again === null ? null : this.emptyRead(st, range);
      return again.read;
    }
    if (!got) return null;
    const wanted = pickRange(got.size);
    if (sameRange(wanted, got.read.range, got.size)) return { ...got.read, range: wanted };
    got.read.body.destroy();
    const again = await this.get(key, storeKey, wanted ? `bytes=${wanted.start}-${wanted.end}` : undefined, tags);
    if (again === null || again === 'range') return null;
    return { ...again.read, range: wanted };
  }

  private emptyRead(status: ObjectStatus, range: ByteRange | null): ObjectRead {
    return { status, range, body: new PassThrough().end() };
  }

  /** `withTags`: a tagged object's tags are read too (one more request), for the status. */
  private async get(key: string, storeKey: string, range: string | undefined, withTags: boolean): Promise<{ read: ObjectRead; size: number } | null | 'range'> {
    let out;
    try {
      // The timeout covers the wait for the headers; the body is then bounded by socket silence.
      out = await this.call('GetObject', (signal) => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: storeKey, Range: range }), { abortSignal: signal }));
    } catch (e) {
      const cause = e instanceof StorageError ? e.cause : e;
      if (statusOf(cause) === 416) return 'range';
      if (e instanceof StorageError && e.kind === 'NotFound') return null;
      throw e;
    }
    const body = out.Body as Readable;
    let size = out.ContentLength ?? 0;
    let got: ByteRange | null = null;
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(out.ContentRange ?? '');
    if (m) {
      got = { start: Number(m[1]), end: Number(m[2]) };
      if (m[3] !== '*') size = Number(m[3]);
    }
    const tags = out.TagCount && withTags ? await this.tags(key).catch((e) => {
      body.destroy();
      throw e;
    }) : [];
    return { read: { status: this.status(key, out, size, tags), range: got, body: wrapBody(body, this.uri, key) }, size };
  }

  // ---- writes -------------------------------------------------------------------------------

  /** Runs the check against the object as it is now; returns the store conditions that keep it true. */
  async checkNow(key: string, check: ChangeCheck): Promise<Conditions> {
    // Conditions look at ETag, size and date: the HEAD alone, without the tags.
    const head = await this.head(key);
    const current = head ? this.status(key, head, head.ContentLength ?? 0, []) : null;
    check(current);
    if (!this.options.conditionalWrites) return {};
    return current ? { IfMatch: `"${current.etag}"` } : { IfNoneMatch: '*' };
  }

  /**
   * Streams `body` through its transforms into `send`, holding the last chunk back until every
   * transform ended without error and `onEnd` (the final description) succeeded: a body that
   * fails verification never reaches the store complete, so the store keeps nothing.
   */
  async sendBody<T>(body: BodySource, size: number | undefined, onEnd: () => void, send: (stream: Readable, length: number) => Promise<T>, what: string): Promise<{ size: number; result: T }> {
    const [source, ...rest] = body;
    // The request itself is not destroyed on a store failure: the error must still reach the client.
    const guard = new PassThrough();
    source.pipe(guard);
    finished(source, (err) => {
      if (err) guard.destroy(err);
    });
    const tail = new HoldLast(size, onEnd);
    let bodyError: unknown;
    const piped = new Promise<void>((res) => pipeline([guard, ...rest, tail] as unknown as [Readable, Transform], (err) => {
      if (err) bodyError = err;
      res();
    }));
    try {
      let buffered: Buffer | undefined;
      if (size === undefined) {
        // No length known (a copy from elsewhere): read it into memory first.
        const chunks: Buffer[] = [];
        for await (const c of tail) chunks.push(c as Buffer);
        buffered = Buffer.concat(chunks);
      }
      const result = await send(buffered ? streamOf(buffered) : tail, buffered ? buffered.length : size!).catch((e) => {
        throw fromS3Error(e, this.uri, what);
      });
      await piped;
      if (bodyError) throw bodyError;
      return { size: tail.count, result };
    } catch (e) {
      source.unpipe(guard);
      tail.destroy();
      await piped;
      throw bodyError ?? e;
    }
  }

  async write(key: string, body: BodySource, describe: () => WrittenObject, check?: ChangeCheck, hints?: WriteHints): Promise<ObjectStatus> {
    const storeKey = this.storeKey(key);
    const conditions = check ? await this.checkNow(key, check) : {};
    const startMeta = hints?.meta;
    const params = {
      Bucket: this.bucket, Key: storeKey,
      ...(startMeta ? { ...toStoreHeaders(startMeta), Metadata: toStoreMetadata(startMeta), Tagging: tagQuery(startMeta.tags), ...toStoreChecksums(startMeta.checksums) } : {}),
    };
    let written: WrittenObject | undefined;
    const onEnd = () => void (written = describe());
    let etag: string;
    let size: number;
    if (hints?.size !== undefined && hints.size <= MAX_SINGLE_PUT) {
      const sent = await this.sendBody(body, hints.size, onEnd, (Body, ContentLength) =>
        this.writeClient.send(new PutObjectCommand({ ...params, ...conditions, Body, ContentLength })), 'PutObject');
      etag = unquote(sent.result.ETag ?? '');
      size = sent.size;
    } else {
      // A whole-object checksum does not apply to the parts of a multipart upload.
      const partParams = Object.fromEntries(Object.entries(params).filter(([k]) => !k.startsWith('Checksum')));
      ({ etag, size } = await this.upload(body, partParams, onEnd));
    }
    const meta = written!.meta;
    if (!startMeta && !sameStoredMeta(meta, { userMetadata: {}, tags: [], checksums: {} })) {
      // The metadata was only known at the end: set it now (a second request).
      etag = await this.replaceMeta(key, meta);
    }
    await this.ensureTags(key, meta.tags);
    etag ||= written!.etag;
    return { key, size, etag, lastModified: new Date(), isFolder: isFolderKey(key, size), meta, version: `${etag}:${size}` };
  }

  /** A body of unknown or more than 5 GiB length: the store's multipart upload, parts sent as configured. */
  private async upload(body: BodySource, params: Record<string, unknown>, onEnd: () => void): Promise<{ etag: string; size: number }> {
    const [source, ...rest] = body;
    const tail = new HoldLast(undefined, onEnd);
    let bodyError: unknown;
    const piped = new Promise<void>((res) => pipeline([source, ...rest, tail] as unknown as [Readable, Transform], (err) => {
      if (err) bodyError = err;
      res();
    }));
    const o = this.options;
    const upload = new Upload({
      client: this.writeClient,
      params: { ...(params as { Bucket: string; Key: string }), Body: tail },
      partSize: o.partSize,
      queueSize: o.multipartAsync ? Math.max(1, Math.min(o.uploadThreads, o.uploadBuffers)) : 1,
      leavePartsOnError: false,
    });
    try {
      const out = await upload.done();
      await piped;
      if (bodyError) throw bodyError;
      return { etag: unquote(out.ETag ?? ''), size: tail.count };
    } catch (e) {
      tail.destroy();
      await piped;
      throw bodyError ?? fromS3Error(e, this.uri, 'PutObject (multipart)');
    }
  }

  /** Tags sent with x-amz-tagging, set again for a store that ignored the header (s3rver does). */
  async ensureTags(key: string, tags: Array<[string, string]>): Promise<void> {
    if (tags.length && !(await this.tags(key)).length) await this.putTags(key, tags);
  }

  private async putTags(key: string, tags: Array<[string, string]>): Promise<void> {
    await this.call('PutObjectTagging', (signal) => this.client.send(new PutObjectTaggingCommand({
      Bucket: this.bucket, Key: this.storeKey(key), Tagging: { TagSet: tags.map(([Key, Value]) => ({ Key, Value })) },
    }), { abortSignal: signal }));
  }

  /** CopyObject onto itself with the new metadata (S3 has no other way to change it); returns the ETag. */
  private async replaceMeta(key: string, meta: ObjectMeta, conditions: { CopySourceIfMatch?: string } = {}): Promise<string> {
    const storeKey = this.storeKey(key);
    const out = await this.call('CopyObject (metadata)', (signal) => this.client.send(new CopyObjectCommand({
      Bucket: this.bucket, Key: storeKey, CopySource: copySource(this.bucket, storeKey), MetadataDirective: 'REPLACE',
      ...toStoreHeaders(meta), Metadata: toStoreMetadata(meta), ...conditions,
    }), { abortSignal: signal }));
    return unquote(out.CopyObjectResult?.ETag ?? '');
  }

  async updateMeta(key: string, update: (meta: ObjectMeta) => ObjectMeta): Promise<ObjectStatus> {
    const current = await this.stat(key);
    if (!current) throw new StorageError('NotFound', `${key}: not found`);
    const meta = update(structuredClone(current.meta));
    let etag = current.etag;
    let lastModified = current.lastModified;
    if (!sameStoredMeta(meta, current.meta)) {
      // Only if the object is still the one read: a write in between is not overwritten with old metadata.
      etag = (await this.replaceMeta(key, meta, { CopySourceIfMatch: `"${current.etag}"` })) || etag;
      lastModified = new Date();
    }
    if (JSON.stringify(meta.tags) !== JSON.stringify(current.meta.tags)) await this.putTags(key, meta.tags);
    return { ...current, etag, lastModified, meta, version: `${etag}:${current.size}` };
  }

  async copyFrom(source: UnderStorage, sourceKey: string, key: string, meta: ObjectMeta, check?: ChangeCheck): Promise<ObjectStatus | null> {
    if (!(source instanceof S3Ufs) || source.storeId !== this.storeId) return null;
    const conditions = check ? await this.checkNow(key, check) : {};
    const storeKey = this.storeKey(key);
    const out = await this.call('CopyObject', (signal) => this.client.send(new CopyObjectCommand({
      Bucket: this.bucket, Key: storeKey, CopySource: copySource(source.bucket, source.storeKey(sourceKey)),
      MetadataDirective: 'REPLACE', ...toStoreHeaders(meta), Metadata: toStoreMetadata(meta),
      TaggingDirective: 'REPLACE', Tagging: tagQuery(meta.tags) ?? '', ...conditions,
    }), { abortSignal: signal }));
    await this.ensureTags(key, meta.tags);
    const st = await this.stat(key);
    if (!st) throw new StorageError('Unavailable', `CopyObject on ${this.uri}: the copy of ${key} is not visible after the store acknowledged it`);
    return { ...st, etag: unquote(out.CopyObjectResult?.ETag ?? st.etag) };
  }

  async delete(key: string, check?: ChangeCheck): Promise<void> {
    const storeKey = this.storeKey(key);
    let conditions: Conditions = {};
    if (check) {
      conditions = await this.checkNow(key, check);
      if (conditions.IfNoneMatch) return; // nothing there, and the check allowed that
    }
    await this.call('DeleteObject', (signal) => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: storeKey, IfMatch: conditions.IfMatch }), { abortSignal: signal }))
      .catch((e) => {
        if (e instanceof StorageError && e.kind === 'NotFound') return;
        throw e;
      });
  }

  // ---- listings ------------------------------------------------------------------------------

  async isEmpty(): Promise<boolean> {
    const out = await this.call('ListObjectsV2', (signal) => this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, MaxKeys: 2 }), { abortSignal: signal }));
    return (out.Contents ?? []).every((c) => c.Key === this.prefix);
  }

  /**
   * The store's ListObjectsV2, asked for one more than wanted and starting after `after` (a common
   * prefix given as `after` comes back once more from the store and is dropped).
   */
  async list(req: ListRequest): Promise<ListPage> {
    const page: ListPage = { entries: [], commonPrefixes: [], isTruncated: false };
    if (req.maxKeys <= 0) return page;
    const out = await this.call('ListObjectsV2', (signal) => this.client.send(new ListObjectsV2Command({
      Bucket: this.bucket,
      Prefix: this.prefix + req.prefix,
      Delimiter: req.delimiter || undefined,
      StartAfter: req.after ? this.prefix + req.after : undefined,
      MaxKeys: Math.min(1000, req.maxKeys + 1),
    }), { abortSignal: signal }));
    const strip = (k: string) => k.slice(this.prefix.length);
    type Item = { key: string; entry?: ListEntry };
    const items: Item[] = [];
    for (const c of out.Contents ?? []) {
      const key = strip(c.Key ?? '');
      if (key === '' || (req.after && compareUtf8(key, req.after) <= 0)) continue;
      items.push({
        key,
        entry: { key, size: c.Size ?? 0, etag: unquote(c.ETag ?? ''), lastModified: c.LastModified ?? new Date(0), owner: undefined, isFolder: isFolderKey(key, c.Size ?? 0) },
      });
    }
    for (const p of out.CommonPrefixes ?? []) {
      const key = strip(p.Prefix ?? '');
      // A prefix before `after` is right when keys under it come after `after` (a V1 marker inside it).
      if (key === '' || key === req.after) continue;
      items.push({ key });
    }
    items.sort((a, b) => compareUtf8(a.key, b.key));
    const taken = items.slice(0, req.maxKeys);
    page.isTruncated = items.length > req.maxKeys || !!out.IsTruncated;
    for (const it of taken) {
      if (it.entry) page.entries.push(it.entry);
      else page.commonPrefixes.push(it.key);
    }
    page.last = taken.length ? taken[taken.length - 1].key : undefined;
    if (page.isTruncated && !page.last) page.isTruncated = false;
    return page;
  }

  // ---- multipart (pass-through; see s3Multipart.ts) -----------------------------------------

  createUpload(key: string, meta: ObjectMeta, checksum?: { algorithm: string; type: 'COMPOSITE' | 'FULL_OBJECT' }): Promise<UploadInfo> {
    return this.multipart.createUpload(key, meta, checksum);
  }

  getUpload(uploadId: string): Promise<UploadInfo | null> {
    return this.multipart.getUpload(uploadId);
  }

  listUploads(): Promise<UploadInfo[]> {
    return this.multipart.listUploads();
  }

  writePart(upload: UploadInfo, partNumber: number, body: BodySource, describe: () => { etag: string; checksums: Record<string, string> }, hints?: WriteHints): Promise<PartInfo> {
    return this.multipart.writePart(upload, partNumber, body, describe, hints);
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
}

/** Passes a body on, holding its last chunk until the upstream ended well and `onEnd` succeeded. */
class HoldLast extends Transform {
  count = 0;
  private held: Buffer | undefined;

  constructor(private readonly size: number | undefined, private readonly onEnd: () => void) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.count += chunk.length;
    if (this.size !== undefined && this.count > this.size) {
      done(new StorageError('Invalid', `The body is longer than its declared ${this.size} bytes.`));
      return;
    }
    const previous = this.held;
    this.held = chunk;
    done(null, previous);
  }

  override _flush(done: TransformCallback): void {
    if (this.size !== undefined && this.count !== this.size) {
      done(new StorageError('Invalid', `The body ended after ${this.count} of its declared ${this.size} bytes.`));
      return;
    }
    try {
      this.onEnd();
    } catch (e) {
      done(e as Error);
      return;
    }
    done(null, this.held);
  }
}

function streamOf(buffer: Buffer): Readable {
  return new PassThrough().end(buffer);
}

/** A store body whose failure mid-stream (dead store, silence past the timeout) names the store. */
function wrapBody(body: Readable, uri: string, key: string): Readable {
  const out = new PassThrough();
  finished(body, (err) => {
    if (err && !out.destroyed) out.destroy(new StorageError('Unavailable', `GetObject of ${key} on ${uri}: the body stopped (${err.message})`, err));
  });
  // The client went away: free the store's connection.
  out.on('close', () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(out);
  return out;
}

function sameRange(wanted: ByteRange | null, got: ByteRange | null, size: number): boolean {
  if (!wanted) return got === null || (got.start === 0 && got.end === size - 1);
  if (!got) return wanted.start === 0 && wanted.end === size - 1;
  return wanted.start === got.start && wanted.end === got.end;
}

/** x-amz-copy-source: bucket/key, each segment URL-encoded. */
function copySource(bucket: string, storeKey: string): string {
  return `${bucket}/${storeKey.split('/').map(encodeURIComponent).join('/')}`;
}
