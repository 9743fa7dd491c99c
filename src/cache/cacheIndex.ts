// The one index of a worker's page cache, whichever process asks. The page files on disk are
// shared by every process of the worker (their paths follow from the page's identity, so any
// process reads a hit without asking anyone); the index (quota, eviction order, pages being
// fetched) lives in one process only: the primary, or the single process. Children reach it over
// the node:cluster IPC channel (IpcIndexClient / serveIndex): a claim before fetching a missing
// page (so concurrent misses, in any process, fetch it once), and batched touches for the
// eviction order. See docs/cache.md.
import cluster from 'node:cluster';
import { promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { dirOf, fileHash, HEADER_BYTES, pageId, parseHeader, parseTrailer, versionHash, diskBytes } from './pageFile.js';
import { type DirUsage, type EvictionPolicy, type PageInfo, PageIndex } from './pageIndex.js';

/** fetch: you fetch it and report done(); ready: it is on disk now; skip: fetch it without caching. */
export type ClaimAnswer = 'fetch' | 'ready' | 'skip';

export interface RestoreState {
  state: 'waiting' | 'running' | 'done' | 'failed';
  pages: number;
  bytes: number;
  /** Page files dropped because they were unreadable or misplaced. */
  dropped: number;
  seconds: number;
}

export interface IndexStats {
  dirs: Array<DirUsage & { dir: string }>;
  policy: EvictionPolicy;
  evictions: number;
  restore: RestoreState;
}

export interface CacheIndexApi {
  claim(page: PageInfo): Promise<ClaimAnswer>;
  done(id: string, ok: boolean): void;
  touch(id: string): void;
  /** A page the index knows is gone or bad on disk: forget it (the next miss fetches it again). */
  lost(id: string): void;
  /** Drops the pages of keys under a prefix (with `exact`, of that one key, but those of version hash `keep`). */
  free(mount: string, prefix: string, exact?: boolean, keep?: string): Promise<{ pages: number; bytes: number }>;
  stats(): Promise<IndexStats>;
  close(): void;
}

/** Longest wait for a page another request is fetching before fetching it apart. */
const CLAIM_WAIT_MS = 10_000;

export interface LocalIndexOptions {
  dirs: string[];
  capacities: number[];
  policy: EvictionPolicy;
  high: number;
  low: number;
  /** Told of pages evicted (metrics) and of files that could not be removed. */
  onEvicted?: (n: number) => void;
  onCorrupt?: () => void;
  onFailure?: (op: string, e: unknown) => void;
}

/** The index itself, in the process that owns it. */
export class LocalIndex implements CacheIndexApi {
  readonly index: PageIndex;
  private readonly claims = new Map<string, { owner?: number; waiters: Array<(a: ClaimAnswer) => void> }>();
  private restoreState: RestoreState = { state: 'waiting', pages: 0, bytes: 0, dropped: 0, seconds: 0 };
  private lastEvictions = 0;

  constructor(private readonly opts: LocalIndexOptions) {
    this.index = new PageIndex({ capacities: opts.capacities, policy: opts.policy, high: opts.high, low: opts.low });
  }

  async claim(page: PageInfo, owner?: number): Promise<ClaimAnswer> {
    if (this.index.has(page.id)) {
      this.index.touch(page.id);
      return 'ready';
    }
    const c = this.claims.get(page.id);
    if (c) {
      // A fetch that takes too long (a slow store, a stuck disk) does not hold the others up.
      return new Promise((resolve) => {
        const timer = setTimeout(() => resolve('skip'), CLAIM_WAIT_MS);
        timer.unref();
        c.waiters.push((a) => {
          clearTimeout(timer);
          resolve(a);
        });
      });
    }
    const { ok, removed } = this.index.reserve(page);
    this.unlink(removed);
    if (!ok) return 'skip';
    this.claims.set(page.id, { owner, waiters: [] });
    return 'fetch';
  }

  done(id: string, ok: boolean): void {
    const c = this.claims.get(id);
    if (!c) return;
    this.claims.delete(id);
    if (ok) this.index.commit(id);
    else this.index.remove(id);
    for (const w of c.waiters) w(ok ? 'ready' : 'skip');
  }

  /** A child died: its pages in flight are given up (and their files, if it got that far, removed). */
  ownerGone(owner: number): void {
    for (const [id, c] of [...this.claims]) {
      if (c.owner !== owner) continue;
      const dir = this.opts.dirs[dirOf(id, this.opts.dirs.length)];
      this.done(id, false);
      void fsp.rm(join(dir, id), { force: true }).catch(() => undefined);
    }
  }

  touch(id: string): void {
    this.index.touch(id);
  }

  lost(id: string): void {
    if (this.index.has(id)) this.index.remove(id);
  }

  async free(mount: string, prefix: string, exact = false, keep?: string): Promise<{ pages: number; bytes: number }> {
    const pages = this.index.matching(mount, prefix, exact ? fileHash(mount, prefix) : undefined).filter((p) => p.vh !== keep);
    let bytes = 0;
    for (const p of pages) {
      this.index.remove(p.id);
      bytes += p.bytes;
    }
    await this.unlink(pages);
    return { pages: pages.length, bytes };
  }

  async stats(): Promise<IndexStats> {
    return {
      dirs: this.index.usage().map((u, i) => ({ dir: this.opts.dirs[i], ...u })),
      policy: this.index.policy,
      evictions: this.index.evictions,
      restore: { ...this.restoreState },
    };
  }

  close(): void {
    for (const id of [...this.claims.keys()]) this.done(id, false);
  }

  private unlink(pages: PageInfo[]): Promise<void> {
    const evicted = this.index.evictions - this.lastEvictions;
    this.lastEvictions = this.index.evictions;
    if (evicted > 0) this.opts.onEvicted?.(evicted);
    if (pages.length === 0) return Promise.resolve();
    return Promise.all(pages.map(async (p) => {
      const path = join(this.opts.dirs[p.dir], p.id);
      try {
        await fsp.rm(path, { force: true });
        // The file's folder goes with its last page (fails harmlessly when others remain).
        await fsp.rmdir(dirname(path)).catch(() => undefined);
      } catch (e) {
        this.opts.onFailure?.('evict', e);
      }
    })).then(() => undefined);
  }

  /**
   * Finds the pages already on disk (a restart keeps the cache). Runs while the worker serves;
   * `progress` is called now and then. Unreadable or misplaced page files are removed.
   */
  async restore(progress?: (s: RestoreState) => void): Promise<RestoreState> {
    const started = Date.now();
    const s = this.restoreState;
    s.state = 'running';
    let lastReport = Date.now();
    try {
      for (let d = 0; d < this.opts.dirs.length; d++) {
        const root = this.opts.dirs[d];
        for (const a of await readdirSafe(root)) {
          if (a.startsWith('.')) continue;
          for (const fh of await readdirSafe(join(root, a))) {
            for (const name of await readdirSafe(join(root, a, fh))) {
              const id = `${a}/${fh}/${name}`;
              const page = await readPageInfo(root, id, d, this.opts.dirs.length);
              if (!page) {
                s.dropped++;
                this.opts.onCorrupt?.();
                await fsp.rm(join(root, id), { force: true }).catch(() => undefined);
                continue;
              }
              const removed = this.index.restore(page);
              if (removed.length) await this.unlink(removed);
              s.pages++;
              s.bytes += page.bytes;
              if (progress && Date.now() - lastReport > 2000) {
                lastReport = Date.now();
                s.seconds = (Date.now() - started) / 1000;
                progress({ ...s });
              }
            }
          }
        }
      }
      s.state = 'done';
    } catch (e) {
      s.state = 'failed';
      this.opts.onFailure?.('restore', e);
    }
    s.seconds = (Date.now() - started) / 1000;
    progress?.({ ...s });
    return { ...s };
  }
}

async function readdirSafe(path: string): Promise<string[]> {
  try {
    return await fsp.readdir(path);
  } catch {
    return [];
  }
}

/** Reads a page file's header and trailer; null when it is truncated, foreign or in the wrong place. */
async function readPageInfo(root: string, id: string, dir: number, dirs: number): Promise<PageInfo | null> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(join(root, id), 'r');
    const st = await fh.stat();
    if (!st.isFile()) return null;
    const header = Buffer.alloc(HEADER_BYTES);
    await fh.read(header, 0, HEADER_BYTES, 0);
    const h = parseHeader(header);
    if (!h || st.size !== HEADER_BYTES + h.dataLength + h.trailerLength) return null;
    const trailer = Buffer.alloc(h.trailerLength);
    await fh.read(trailer, 0, h.trailerLength, HEADER_BYTES + h.dataLength);
    const ref = parseTrailer(trailer);
    if (!ref) return null;
    const f = fileHash(ref.mount, ref.key);
    const v = versionHash(ref.version);
    if (pageId(f, v, ref.index) !== id || dirOf(id, dirs) !== dir) return null;
    return { id, dir, bytes: diskBytes(h.dataLength), mount: ref.mount, key: ref.key, fh: f, vh: v };
  } catch {
    return null;
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

// ---- across processes -------------------------------------------------------------------

interface Request {
  strata: 'cache';
  rid?: number;
  op: 'claim' | 'done' | 'touch' | 'lost' | 'free' | 'stats';
  page?: PageInfo;
  id?: string;
  ok?: boolean;
  ids?: string[];
  mount?: string;
  prefix?: string;
  exact?: boolean;
  keep?: string;
}
interface Reply {
  strata: 'cache-reply';
  rid: number;
  value: unknown;
}

/** In the primary: answers the children's index requests. */
export function serveIndex(index: LocalIndex): void {
  cluster.on('message', (worker, m: Request) => {
    if (m?.strata !== 'cache') return;
    const reply = (value: unknown) => {
      if (m.rid !== undefined && worker.isConnected()) worker.send({ strata: 'cache-reply', rid: m.rid, value } satisfies Reply);
    };
    switch (m.op) {
      case 'claim':
        void index.claim(m.page!, worker.id).then(reply);
        break;
      case 'done':
        index.done(m.id!, m.ok!);
        break;
      case 'touch':
        for (const id of m.ids ?? []) index.touch(id);
        break;
      case 'lost':
        index.lost(m.id!);
        break;
      case 'free':
        void index.free(m.mount!, m.prefix!, m.exact, m.keep).then(reply);
        break;
      case 'stats':
        void index.stats().then(reply);
        break;
    }
  });
  cluster.on('exit', (worker) => index.ownerGone(worker.id));
}

/** In a child: the index in the primary, over IPC. Touches are sent in batches. */
export class IpcIndexClient implements CacheIndexApi {
  private rid = 0;
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private touches = new Set<string>();
  private timer?: NodeJS.Timeout;

  constructor() {
    process.on('message', (m: Reply) => {
      if (m?.strata !== 'cache-reply') return;
      this.waiting.get(m.rid)?.(m.value);
      this.waiting.delete(m.rid);
    });
  }

  private request<T>(req: Omit<Request, 'strata' | 'rid'>): Promise<T> {
    const rid = ++this.rid;
    return new Promise((resolve) => {
      this.waiting.set(rid, resolve as (v: unknown) => void);
      process.send?.({ strata: 'cache', rid, ...req } satisfies Request);
    });
  }

  claim(page: PageInfo): Promise<ClaimAnswer> {
    return this.request({ op: 'claim', page });
  }

  done(id: string, ok: boolean): void {
    process.send?.({ strata: 'cache', op: 'done', id, ok } satisfies Request);
  }

  touch(id: string): void {
    this.touches.add(id);
    if (this.touches.size >= 1000) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), 500);
      this.timer.unref();
    }
  }

  lost(id: string): void {
    this.touches.delete(id);
    process.send?.({ strata: 'cache', op: 'lost', id } satisfies Request);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.touches.size === 0) return;
    const ids = [...this.touches];
    this.touches = new Set();
    process.send?.({ strata: 'cache', op: 'touch', ids } satisfies Request);
  }

  free(mount: string, prefix: string, exact = false, keep?: string): Promise<{ pages: number; bytes: number }> {
    if (exact) {
      // Nobody waits for a write's clean-up: no answer needed.
      process.send?.({ strata: 'cache', op: 'free', mount, prefix, exact, keep } satisfies Request);
      return Promise.resolve({ pages: 0, bytes: 0 });
    }
    return this.request({ op: 'free', mount, prefix });
  }

  stats(): Promise<IndexStats> {
    return this.request({ op: 'stats' });
  }

  close(): void {
    this.flush();
    for (const w of this.waiting.values()) w('skip');
    this.waiting.clear();
  }
}
