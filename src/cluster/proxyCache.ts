// The proxy cache: small objects a worker proxied for their owner, kept in this process's memory
// by version, so that the next GET of the same version costs the owner a check, not the bytes.
//
// The owner stays the authority: every GET is still forwarded, carrying the version held here
// (x-strata-held-version). The owner authenticates, authorizes and evaluates the request as always;
// when the object's current version is the one held, it answers the headers alone (x-strata-held)
// and this worker sends the bytes. A write through any worker changes the owner's version, so a
// stale copy is never served; it is replaced by the next full answer. Bytes held are bounded
// (strata.worker.s3.proxy.cache.size, least recently used first out), and so is one object
// (strata.worker.s3.proxy.cache.max.object.size). Alluxio's passive cache is the same idea.

/** Request header: the version of the object the forwarding worker holds. */
export const HELD_VERSION_HEADER = 'x-strata-held-version';
/** Answer header: the owner left the body out; its value is the length the client must get. */
export const HELD_HEADER = 'x-strata-held';
/** Answer header: the version of the object whose bytes the answer carries. */
export const VERSION_HEADER = 'x-strata-version';

export interface HeldObject {
  version: string;
  bytes: Buffer;
}

export class ProxyCache {
  /** Insertion order is recency: a hit moves the entry to the end, eviction takes from the front. */
  private readonly entries = new Map<string, HeldObject>();
  private held = 0;

  constructor(readonly capacity: number, readonly maxObject: number) {}

  get enabled(): boolean {
    return this.capacity > 0 && this.maxObject > 0;
  }

  /** Bytes held now. */
  get size(): number {
    return this.held;
  }

  /** Whether an object of `length` bytes would be kept. */
  accepts(length: number): boolean {
    return this.enabled && length <= this.maxObject && length <= this.capacity;
  }

  get(path: string): HeldObject | undefined {
    const e = this.entries.get(path);
    if (e) {
      this.entries.delete(path);
      this.entries.set(path, e);
    }
    return e;
  }

  set(path: string, version: string, bytes: Buffer): void {
    if (!this.accepts(bytes.length)) return;
    this.delete(path);
    this.entries.set(path, { version, bytes });
    this.held += bytes.length;
    for (const [k, e] of this.entries) {
      if (this.held <= this.capacity) break;
      this.entries.delete(k);
      this.held -= e.bytes.length;
    }
  }

  delete(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    this.entries.delete(path);
    this.held -= e.bytes.length;
  }
}

/** The bytes of a held object a 200 or 206 answer names (its Content-Range), or undefined if they do not fit. */
export function heldSlice(held: HeldObject, status: number, contentRange: string | undefined, length: number): Buffer | undefined {
  if (status === 200) return length === held.bytes.length ? held.bytes : undefined;
  if (status !== 206 || !contentRange) return undefined;
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(contentRange);
  if (!m) return undefined;
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (total !== held.bytes.length || end >= total || end - start + 1 !== length) return undefined;
  return held.bytes.subarray(start, end + 1);
}
