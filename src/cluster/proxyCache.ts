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

/**
 * Request header: the version of the object the forwarding worker holds, or NONE_HELD when it holds
 * none but would keep this one (the owner then names the version of the bytes it sends). Signed in
 * the forwarding marker (cluster/signing.ts).
 */
export const HELD_VERSION_HEADER = 'x-strata-held-version';
export const NONE_HELD = '-';
/** Answer header: the owner left the body out; its value is the length the client must get. */
export const HELD_HEADER = 'x-strata-held';
/** Answer header: the version of the object whose bytes the answer carries. */
export const VERSION_HEADER = 'x-strata-version';

export interface HeldObject {
  version: string;
  bytes: Buffer;
}

/** An object on its way from the owner to a client, copied as it passes; its room is reserved. */
export interface Fill {
  /** Copies the next piece of the body. */
  add(chunk: Buffer): void;
  /** The body ended: keeps the object if it arrived whole (true). Releases the reservation. */
  finish(): boolean;
  /** The answer failed: drops the copy and releases the reservation. */
  abandon(): void;
}

export class ProxyCache {
  /** Insertion order is recency: a hit moves the entry to the end, eviction takes from the front. */
  private readonly entries = new Map<string, HeldObject>();
  private held = 0;
  /** Bytes reserved by fills in flight, and their paths (one fill per path at a time). */
  private filling = 0;
  private readonly fillingPaths = new Set<string>();

  constructor(readonly capacity: number, readonly maxObject: number) {}

  get enabled(): boolean {
    return this.capacity > 0 && this.maxObject > 0;
  }

  /** Bytes held now, and reserved by fills in flight: never more than the capacity. */
  get size(): number {
    return this.held + this.filling;
  }

  /** Whether an object of `length` bytes may be kept (an empty one saves nothing). */
  accepts(length: number): boolean {
    return this.enabled && length > 0 && length <= this.maxObject && length <= this.capacity;
  }

  get(path: string): HeldObject | undefined {
    const e = this.entries.get(path);
    if (e) {
      this.entries.delete(path);
      this.entries.set(path, e);
    }
    return e;
  }

  /**
   * Starts keeping `version` of `path` (`length` bytes) as it passes, or undefined when it may not be
   * kept now: too large, already held, another fill of the path in flight, or no room even after
   * evicting.
   */
  startFill(path: string, version: string, length: number): Fill | undefined {
    if (!this.accepts(length) || this.fillingPaths.has(path)) return undefined;
    // Another answer of the same version, asked for before that one was kept: nothing to add.
    if (this.entries.get(path)?.version === version) return undefined;
    this.delete(path);
    this.evictUntil(length);
    if (this.size + length > this.capacity) return undefined;
    this.filling += length;
    this.fillingPaths.add(path);
    const bytes = Buffer.allocUnsafe(length);
    let at = 0;
    let open = true;
    const release = () => {
      if (!open) return false;
      open = false;
      this.filling -= length;
      this.fillingPaths.delete(path);
      return true;
    };
    return {
      add: (chunk) => {
        if (open && at + chunk.length <= length) chunk.copy(bytes, at);
        at += chunk.length;
      },
      finish: () => {
        if (!release() || at !== length) return false;
        this.set(path, version, bytes);
        return true;
      },
      abandon: () => {
        release();
      },
    };
  }

  set(path: string, version: string, bytes: Buffer): void {
    if (!this.accepts(bytes.length)) return;
    this.delete(path);
    this.evictUntil(bytes.length);
    if (this.size + bytes.length > this.capacity) return;
    this.entries.set(path, { version, bytes });
    this.held += bytes.length;
  }

  delete(path: string): void {
    const e = this.entries.get(path);
    if (!e) return;
    this.entries.delete(path);
    this.held -= e.bytes.length;
  }

  /** Deletes the entry of `path` if it is still `entry` (not a newer copy kept meanwhile). */
  deleteIf(path: string, entry: HeldObject): void {
    if (this.entries.get(path) === entry) this.delete(path);
  }

  /** Evicts the least recently used entries until `room` more bytes fit, or none is left. */
  private evictUntil(room: number): void {
    for (const [k, e] of this.entries) {
      if (this.size + room <= this.capacity) return;
      this.entries.delete(k);
      this.held -= e.bytes.length;
    }
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
