// The index of the pages on disk: which exist, how much of each folder's quota they use, and
// which leave first. Pure bookkeeping (no I/O): the caller deletes the files of evicted pages.
//
// Space is reserved before a page is fetched (a "pending" entry), so pages in flight count and
// the quota is never exceeded. When a folder passes its high watermark, pages are evicted down to
// the low one, so eviction runs ahead of a full folder instead of on every insert.

export type EvictionPolicy = 'LRU' | 'LFU' | 'FIFO';

export interface PageInfo {
  /** Path below the cache folder; unique. */
  id: string;
  dir: number;
  /** Disk bytes, as counted against the quota. */
  bytes: number;
  mount: string;
  key: string;
  /** Hash of (mount, key) and of the version: pages of other versions of a file are stale. */
  fh: string;
  vh: string;
}

interface Entry extends PageInfo {
  hits: number;
  lastAccess: number;
  pending: boolean;
}

export interface IndexOptions {
  capacities: number[];
  policy: EvictionPolicy;
  high: number;
  low: number;
}

export interface DirUsage {
  /** Includes the room reserved for pages being written. */
  usedBytes: number;
  capacityBytes: number;
  /** Pages on disk (not those being written). */
  pages: number;
}

export class PageIndex {
  private readonly dirs: Array<{ entries: Map<string, Entry>; used: number; capacity: number; pending: number }>;
  private readonly byId = new Map<string, Entry>();
  private readonly byFile = new Map<string, Set<string>>();
  private clock = 0;
  evictions = 0;

  constructor(private readonly opts: IndexOptions) {
    this.dirs = opts.capacities.map((capacity) => ({ entries: new Map(), used: 0, capacity, pending: 0 }));
  }

  get policy(): EvictionPolicy {
    return this.opts.policy;
  }

  has(id: string): boolean {
    const e = this.byId.get(id);
    return e !== undefined && !e.pending;
  }

  isPending(id: string): boolean {
    return this.byId.get(id)?.pending ?? false;
  }

  /**
   * Reserves room for a page about to be written. Returns the pages to delete (evicted) and
   * whether the page may be written. Pages of older versions of the file are left to eviction
   * (a read of the old version may still be in flight on them).
   */
  reserve(page: PageInfo): { ok: boolean; removed: PageInfo[] } {
    const removed: PageInfo[] = [];
    if (this.byId.has(page.id)) return { ok: false, removed };
    const d = this.dirs[page.dir];
    if (!d || page.bytes > d.capacity) return { ok: false, removed };
    if (d.used + page.bytes > d.capacity * this.opts.high) {
      const target = Math.min(d.capacity * this.opts.low, d.capacity) - page.bytes;
      removed.push(...this.evict(page.dir, Math.max(target, 0)));
    }
    if (d.used + page.bytes > d.capacity) return { ok: false, removed };
    this.add({ ...page, hits: 1, lastAccess: ++this.clock, pending: true });
    return { ok: true, removed };
  }

  /** The reserved page is on disk now. */
  commit(id: string): void {
    const e = this.byId.get(id);
    if (e?.pending) {
      e.pending = false;
      this.dirs[e.dir].pending--;
    }
  }

  /** A page found on disk at start; returns what had to be evicted to keep the quota. */
  restore(page: PageInfo, age = 0): PageInfo[] {
    if (this.byId.has(page.id) || !this.dirs[page.dir]) return [];
    this.add({ ...page, hits: 1, lastAccess: age, pending: false });
    return this.trim(page.dir);
  }

  /** Evicts down to the low watermark when a folder is past the high one. */
  trim(dir: number): PageInfo[] {
    const d = this.dirs[dir];
    if (!d || d.used <= d.capacity * this.opts.high) return [];
    return this.evict(dir, d.capacity * this.opts.low);
  }

  touch(id: string): void {
    const e = this.byId.get(id);
    if (!e) return;
    e.hits++;
    e.lastAccess = ++this.clock;
    if (this.opts.policy === 'LRU') {
      const m = this.dirs[e.dir].entries;
      m.delete(id);
      m.set(id, e);
    }
  }

  remove(id: string): PageInfo | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    this.byId.delete(id);
    const d = this.dirs[e.dir];
    d.entries.delete(id);
    d.used -= e.bytes;
    if (e.pending) d.pending--;
    const f = this.byFile.get(e.fh);
    f?.delete(id);
    if (f && f.size === 0) this.byFile.delete(e.fh);
    return e;
  }

  /** Pages whose key starts with `prefix` in `mount` (committed ones); with `fh`, only that file's. */
  matching(mount: string, prefix: string, fh?: string): PageInfo[] {
    const out: PageInfo[] = [];
    if (fh !== undefined) {
      for (const id of this.byFile.get(fh) ?? []) {
        const e = this.byId.get(id)!;
        if (!e.pending) out.push(e);
      }
      return out;
    }
    for (const e of this.byId.values()) if (!e.pending && e.mount === mount && e.key.startsWith(prefix)) out.push(e);
    return out;
  }

  usage(): DirUsage[] {
    return this.dirs.map((d) => ({ usedBytes: d.used, capacityBytes: d.capacity, pages: d.entries.size - d.pending }));
  }

  /** Ids in the order they would be evicted (tests and diagnostics). */
  evictionOrder(dir: number): string[] {
    return this.candidates(dir).map((e) => e.id);
  }

  private add(e: Entry): void {
    this.byId.set(e.id, e);
    const d = this.dirs[e.dir];
    d.entries.set(e.id, e);
    d.used += e.bytes;
    if (e.pending) d.pending++;
    let f = this.byFile.get(e.fh);
    if (!f) this.byFile.set(e.fh, (f = new Set()));
    f.add(e.id);
  }

  private candidates(dir: number): Entry[] {
    const all = [...this.dirs[dir].entries.values()].filter((e) => !e.pending);
    // LRU keeps its map in access order, FIFO in insertion order; LFU sorts (fewest hits, then oldest).
    if (this.opts.policy === 'LFU') all.sort((a, b) => a.hits - b.hits || a.lastAccess - b.lastAccess);
    return all;
  }

  private evict(dir: number, target: number): PageInfo[] {
    const d = this.dirs[dir];
    const out: PageInfo[] = [];
    if (d.used <= target) return out;
    for (const e of this.candidates(dir)) {
      if (d.used <= target) break;
      this.remove(e.id);
      this.evictions++;
      out.push(e);
    }
    return out;
  }
}
