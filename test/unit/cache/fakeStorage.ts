// An in-process UnderStorage for cache unit tests: objects in memory, with injectable latency,
// unavailability and changes "behind the cache" (a new version of a key).
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { StorageError } from '../../../src/ufs/errors.js';
import { emptyMeta, type BodySource, type ByteRange, type ListPage, type ListRequest, type ObjectRead, type ObjectStatus, type UnderStorage, type WrittenObject } from '../../../src/ufs/ufs.js';

export class FakeStorage implements UnderStorage {
  readonly uri = 'fake://';
  readonly objects = new Map<string, { data: Buffer; version: string; modified: Date }>();
  latencyMs = 0;
  unavailable = false;
  /** Calls by operation; `reads` lists the ranges read. */
  readonly calls = { stat: 0, read: 0, list: 0 };
  readonly reads: Array<[string, number, number]> = [];
  private seq = 0;

  /** Puts an object directly, as a change made behind the cache would. */
  set(key: string, data: Buffer | string): void {
    this.objects.set(key, { data: Buffer.from(data), version: `v${++this.seq}`, modified: new Date() });
  }

  private async enter(): Promise<void> {
    if (this.latencyMs) await sleep(this.latencyMs);
    if (this.unavailable) throw new StorageError('Unavailable', 'the fake store is down');
  }

  private status(key: string): ObjectStatus | null {
    const o = this.objects.get(key);
    if (!o) return null;
    const etag = createHash('md5').update(o.data).digest('hex');
    return { key, size: o.data.length, etag, lastModified: o.modified, isFolder: false, meta: emptyMeta(), version: o.version };
  }

  async stat(key: string): Promise<ObjectStatus | null> {
    this.calls.stat++;
    await this.enter();
    return this.status(key);
  }

  async read(key: string, pickRange: (size: number) => ByteRange | null): Promise<ObjectRead | null> {
    this.calls.read++;
    await this.enter();
    const status = this.status(key);
    if (!status) return null;
    const data = this.objects.get(key)!.data;
    const range = pickRange(data.length);
    const start = range ? range.start : 0;
    const end = range ? Math.min(range.end, data.length - 1) : data.length - 1;
    this.reads.push([key, start, end]);
    const bytes = Buffer.from(data.subarray(start, end + 1));
    // Two chunks, so consumers that collect a stream are exercised.
    const half = Math.floor(bytes.length / 2);
    return { status, range, body: Readable.from([bytes.subarray(0, half), bytes.subarray(half)]) };
  }

  async write(key: string, body: BodySource, describe: () => WrittenObject): Promise<ObjectStatus> {
    await this.enter();
    const chunks: Buffer[] = [];
    for await (const c of body[0] as AsyncIterable<Buffer>) chunks.push(c);
    describe();
    this.set(key, Buffer.concat(chunks));
    return this.status(key)!;
  }

  async updateMeta(key: string): Promise<ObjectStatus> {
    await this.enter();
    const s = this.status(key);
    if (!s) throw new StorageError('NotFound', key);
    return s;
  }

  async delete(key: string): Promise<void> {
    await this.enter();
    this.objects.delete(key);
  }

  async list(request: ListRequest): Promise<ListPage> {
    this.calls.list++;
    await this.enter();
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(request.prefix) && k > request.after).sort();
    const page = keys.slice(0, request.maxKeys);
    return {
      entries: page.map((k) => {
        const s = this.status(k)!;
        return { key: k, size: s.size, etag: s.etag, lastModified: s.lastModified, isFolder: false };
      }),
      commonPrefixes: [],
      isTruncated: keys.length > page.length,
      last: page.at(-1),
    };
  }

  forget(): void {}
  async isEmpty(): Promise<boolean> {
    return this.objects.size === 0;
  }
  async close(): Promise<void> {}
  createUpload(): never {
    throw new Error('not in the fake');
  }
  async getUpload(): Promise<null> {
    return null;
  }
  async listUploads(): Promise<[]> {
    return [];
  }
  writePart(): never {
    throw new Error('not in the fake');
  }
  async listParts(): Promise<[]> {
    return [];
  }
  completeUpload(): never {
    throw new Error('not in the fake');
  }
  async abortUpload(): Promise<void> {}
}
