// The hash ring: which worker owns an object path. Pure and immutable: built from the member list,
// it never changes; membership changes build a new ring. docs/ring.md has the algorithms and figures.
//
// MULTI_PROBE (default): a consistent-hash ring with `virtualNodes` points per member, looked up with
// RING_PROBES probes per key; the owner is the member whose point follows one of the probes most closely
// (multi-probe consistent hashing, Appleton & O'Reilly 2015, here over virtual nodes). A member's share
// varies less than on a plain ring with the same points, and a key changes owner only when a member is
// added (it may take the key) or removed (its keys move), so movement is minimal. Hashes: murmur3 x86_32
// of the UTF-8 path; probes and points are derived with murmur3's 32-bit finaliser.
//
// NGINX_KETAMA: nginx's `hash $uri consistent` (ngx_http_upstream_hash_module.c) exactly: 160 points per
// server, point i = crc32(host "\0" port le32(point i-1)), key hash crc32(path), first point >= hash,
// wrapping to the first point.

export interface RingMember {
  /** Stable worker id (e.g. hostname:port or a generated id). */
  id: string;
  /** host:port of the member's S3 HTTP listener; also the string nginx's upstream names the server by. */
  address: string;
}

export type RingAlgorithm = 'MULTI_PROBE' | 'NGINX_KETAMA';

export interface RingOptions {
  algorithm: RingAlgorithm;
  /** Points per member on the ring (MULTI_PROBE); NGINX_KETAMA always uses nginx's 160. */
  virtualNodes: number;
  /** Probes per lookup (MULTI_PROBE, 1 to 64; default RING_PROBES; 1 is a plain ring). */
  probes?: number;
}

export interface HashRing {
  readonly members: readonly RingMember[];
  readonly algorithm: RingAlgorithm;
  /** The owner of a path `/bucket/key` (the decoded object path), undefined for an empty ring. */
  ownerOf(path: string): RingMember | undefined;
  /** Up to n distinct members in preference order (owner first): where a key goes when its owner is gone. */
  preferenceList(path: string, n: number): RingMember[];
}

export const RING_ALGORITHMS: readonly RingAlgorithm[] = ['MULTI_PROBE', 'NGINX_KETAMA'];
export const DEFAULT_RING_OPTIONS: RingOptions = Object.freeze({ algorithm: 'MULTI_PROBE', virtualNodes: 2000 });
/** Probes per lookup of MULTI_PROBE: 4 brings a 100-member ring's spread to key-sampling noise. */
export const RING_PROBES = 4;
/** Points per weight-1 server in nginx's ketama ring. */
export const NGINX_KETAMA_POINTS = 160;
const MAX_VIRTUAL_NODES = 100_000;
// 128 MiB of sort buffer; 8000 members at the default 2000 points fit.
const MAX_POINTS = 2 ** 24;

/** The ring options a worker's configuration names (strata.worker.ring.*). */
export function ringOptionsFrom(config: { string(name: string): string; int(name: string): number }): RingOptions {
  return {
    algorithm: config.string('strata.worker.ring.algorithm') as RingAlgorithm,
    virtualNodes: config.int('strata.worker.ring.virtual.nodes'),
  };
}

export function buildRing(members: readonly RingMember[], options: RingOptions): HashRing {
  const algorithm = options.algorithm;
  if (algorithm === 'NGINX_KETAMA') return new KetamaRing(members);
  if (algorithm === 'MULTI_PROBE') return new MultiProbeRing(members, options.virtualNodes, options.probes ?? RING_PROBES);
  throw new Error(`unknown ring algorithm ${String(algorithm)} (known: ${RING_ALGORITHMS.join(', ')})`);
}

/** Members sorted by `key`, frozen; a key used twice is a configuration error. */
function sortedMembers(members: readonly RingMember[], key: 'id' | 'address'): readonly RingMember[] {
  if (members.length > MEMBER_SPACE) throw new Error(`a ring holds at most ${MEMBER_SPACE} members`);
  const sorted = members
    .map((m) => Object.freeze({ id: m.id, address: m.address }))
    .sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i][key] === sorted[i - 1][key]) throw new Error(`two ring members share the ${key} ${sorted[i][key]}`);
  }
  return Object.freeze(sorted);
}

// ---- hashing ----

const utf8 = new TextEncoder();
let scratch = new Uint8Array(1024);

/** The UTF-8 bytes of s in a shared scratch buffer (valid until the next call) and their count. */
function utf8Bytes(s: string): number {
  if (s.length * 3 > scratch.length) scratch = new Uint8Array(s.length * 3);
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return utf8.encodeInto(s, scratch).written;
    scratch[i] = c;
  }
  return n;
}

/** murmur3 x86_32 of bytes[0..n). */
function murmur3(bytes: Uint8Array, n: number, seed: number): number {
  let h = seed | 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) h = mixBlock(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  const rest = n & 3;
  if (rest > 0) {
    let k = bytes[i];
    if (rest > 1) k ^= bytes[i + 1] << 8;
    if (rest > 2) k ^= bytes[i + 2] << 16;
    h ^= scrambleK(k);
  }
  return fmix32(h ^ n);
}

/** murmur3's per-block scramble of k, and the mix of a whole 4-byte block into h. */
function scrambleK(k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

function mixBlock(h: number, k: number): number {
  h ^= scrambleK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** murmur3's finaliser: a bijection of 32-bit values that mixes every bit into every other. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** murmur3 x86_32 (seed 0) of the UTF-8 bytes of s: the key hash of MULTI_PROBE. */
export function murmur3String(s: string, seed = 0): number {
  // ASCII (the usual path) is hashed straight from the string; anything else from its UTF-8 bytes.
  const n = s.length;
  let h = seed | 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const c0 = s.charCodeAt(i);
    const c1 = s.charCodeAt(i + 1);
    const c2 = s.charCodeAt(i + 2);
    const c3 = s.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur3(scratch, utf8Bytes(s), seed);
    h = mixBlock(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  const rest = n & 3;
  if (rest > 0) {
    const c0 = s.charCodeAt(i);
    const c1 = rest > 1 ? s.charCodeAt(i + 1) : 0;
    const c2 = rest > 2 ? s.charCodeAt(i + 2) : 0;
    if ((c0 | c1 | c2) > 0x7f) return murmur3(scratch, utf8Bytes(s), seed);
    h ^= scrambleK(c0 | (c1 << 8) | (c2 << 16));
  }
  return fmix32(h ^ n);
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** Running CRC32 (IEEE, as zlib and ngx_crc32): start with 0xffffffff, end with crcFinal. */
function crcUpdate(crc: number, bytes: Uint8Array, n: number): number {
  for (let i = 0; i < n; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return crc;
}
const crcFinal = (crc: number): number => (crc ^ 0xffffffff) >>> 0;

/** CRC32 of the UTF-8 bytes of s: nginx's ngx_crc32_long, the key hash of NGINX_KETAMA. */
export function crc32String(s: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return crcFinal(crcUpdate(0xffffffff, scratch, utf8Bytes(s)));
    crc = CRC_TABLE[(crc ^ c) & 0xff] ^ (crc >>> 8);
  }
  return crcFinal(crc);
}

// ---- sorted points with a bucket index ----

/** Points sorted by position, each naming a member index, with an index from the top bits of a hash. */
class Points {
  readonly pos: Uint32Array;
  readonly owner: Uint32Array;
  private readonly start: Uint32Array;
  private readonly shift: number;

  /** `packed[i]` = position * 2^20 + member index; sorted numerically gives (position, member) order. */
  constructor(packed: Float64Array) {
    packed.sort();
    const n = packed.length;
    this.pos = new Uint32Array(n);
    this.owner = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const p = packed[i];
      const position = Math.floor(p / MEMBER_SPACE);
      this.pos[i] = position;
      this.owner[i] = p - position * MEMBER_SPACE;
    }
    // About one point per bucket: a lookup reads the index and then one or two points.
    const bits = Math.max(4, Math.min(20, Math.floor(Math.log2(Math.max(1, n)))));
    this.shift = 32 - bits;
    this.start = new Uint32Array((1 << bits) + 1);
    let j = 0;
    for (let b = 0; b <= 1 << bits; b++) {
      const lowest = b * 2 ** this.shift;
      while (j < n && this.pos[j] < lowest) j++;
      this.start[b] = j;
    }
  }

  get length(): number {
    return this.pos.length;
  }

  /** Index of the first point at or after hash, n when there is none (the caller wraps). */
  firstAtOrAfter(hash: number): number {
    const pos = this.pos;
    const n = pos.length;
    let i = this.start[hash >>> this.shift];
    while (i < n && pos[i] < hash) i++;
    return i;
  }
}
const MEMBER_SPACE = 2 ** 20;

// ---- MULTI_PROBE ----

class MultiProbeRing implements HashRing {
  readonly algorithm = 'MULTI_PROBE' as const;
  readonly members: readonly RingMember[];
  private readonly points: Points;
  private readonly probes: number;

  constructor(members: readonly RingMember[], virtualNodes: number, probes: number) {
    if (!Number.isInteger(probes) || probes < 1 || probes > 64) throw new Error(`ring probes must be an integer from 1 to 64, not ${probes}`);
    this.probes = probes;
    if (!Number.isInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > MAX_VIRTUAL_NODES) {
      throw new Error(`ring virtual nodes must be an integer from 1 to ${MAX_VIRTUAL_NODES}, not ${virtualNodes}`);
    }
    this.members = sortedMembers(members, 'id');
    if (this.members.length * virtualNodes > MAX_POINTS) {
      throw new Error(`${this.members.length} ring members x ${virtualNodes} virtual nodes is more than ${MAX_POINTS} points`);
    }
    const packed = new Float64Array(this.members.length * virtualNodes);
    let k = 0;
    for (let m = 0; m < this.members.length; m++) {
      const base = murmur3String(this.members[m].id, 0x5eed);
      for (let v = 0; v < virtualNodes; v++) packed[k++] = vnodePosition(base, v) * MEMBER_SPACE + m;
    }
    this.points = new Points(packed);
    Object.freeze(this);
  }

  ownerOf(path: string): RingMember | undefined {
    const points = this.points;
    const n = points.length;
    if (n === 0) return undefined;
    const h = murmur3String(path);
    let best = 0;
    let bestDistance = Infinity;
    for (let j = 0; j < this.probes; j++) {
      const probe = probePosition(h, j);
      let i = points.firstAtOrAfter(probe);
      if (i === n) i = 0;
      const distance = (points.pos[i] - probe) >>> 0;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = i;
      }
    }
    return this.members[points.owner[best]];
  }

  // Each member's distance is the least over the probes of the distance from a probe to the member's
  // next point; members in order of distance are the owners as members are removed one by one.
  preferenceList(path: string, n: number): RingMember[] {
    const points = this.points;
    const total = points.length;
    const want = Math.min(Math.floor(n), this.members.length);
    if (total === 0 || !(want > 0)) return [];
    const h = murmur3String(path);
    // Candidates: member index, its least distance, the probe that first reached it (small arrays:
    // n is a handful in practice, and these are faster than a Map for that).
    const member: number[] = [];
    const dist: number[] = [];
    const probeOf: number[] = [];
    const seen: number[] = [];
    for (let j = 0; j < this.probes; j++) {
      const probe = probePosition(h, j);
      const first = points.firstAtOrAfter(probe);
      seen.length = 0;
      for (let step = 0; step < total && seen.length < want; step++) {
        const i = (first + step) % total;
        const m = points.owner[i];
        if (seen.includes(m)) continue;
        seen.push(m);
        const d = (points.pos[i] - probe) >>> 0;
        const c = member.indexOf(m);
        if (c < 0) {
          member.push(m);
          dist.push(d);
          probeOf.push(j);
        } else if (d < dist[c]) {
          dist[c] = d;
          probeOf[c] = j;
        }
      }
    }
    // Picks the nearest candidate want times. Ties are broken as ownerOf breaks them: earlier probe,
    // then lower member index (the order of equal points).
    const out: RingMember[] = [];
    for (let r = 0; r < want && r < member.length; r++) {
      let b = -1;
      for (let c = 0; c < member.length; c++) {
        if (dist[c] < 0) continue;
        if (b < 0 || dist[c] < dist[b] || (dist[c] === dist[b] && (probeOf[c] < probeOf[b] || (probeOf[c] === probeOf[b] && member[c] < member[b])))) b = c;
      }
      out.push(this.members[member[b]]);
      dist[b] = -1;
    }
    return out;
  }
}

/** Position of a member's v-th point, from the hash of its id. */
function vnodePosition(base: number, v: number): number {
  return fmix32(base ^ fmix32(Math.imul(v + 1, 0x9e3779b9)));
}

/** Position of a key's j-th probe: the key hash itself, then values derived from it. */
function probePosition(h: number, j: number): number {
  return j === 0 ? h : fmix32(h ^ Math.imul(j, 0x9e3779b9));
}

// ---- NGINX_KETAMA ----

class KetamaRing implements HashRing {
  readonly algorithm = 'NGINX_KETAMA' as const;
  readonly members: readonly RingMember[];
  private readonly points: Points;

  // Members are taken in address order, the order renderNginxUpstream writes them: nginx keeps the
  // first of two servers' points with the same hash (stable sort), so order only matters for those.
  constructor(members: readonly RingMember[]) {
    sortedMembers(members, 'id');
    this.members = sortedMembers(members, 'address');
    const packed = new Float64Array(this.members.length * NGINX_KETAMA_POINTS);
    let k = 0;
    for (let m = 0; m < this.members.length; m++) {
      for (const hash of ketamaPoints(this.members[m].address)) packed[k++] = hash * MEMBER_SPACE + m;
    }
    this.points = dedupeKeepFirst(new Points(packed));
    Object.freeze(this);
  }

  ownerOf(path: string): RingMember | undefined {
    const n = this.points.length;
    if (n === 0) return undefined;
    const i = this.points.firstAtOrAfter(crc32String(path));
    return this.members[this.points.owner[i % n]];
  }

  // nginx's retry order when a server fails: the next points clockwise, skipping servers tried.
  preferenceList(path: string, n: number): RingMember[] {
    const total = this.points.length;
    const want = Math.min(Math.floor(n), this.members.length);
    if (total === 0 || !(want > 0)) return [];
    const first = this.points.firstAtOrAfter(crc32String(path));
    const out: RingMember[] = [];
    const seen = new Set<number>();
    for (let step = 0; step < total && out.length < want; step++) {
      const m = this.points.owner[(first + step) % total];
      if (seen.has(m)) continue;
      seen.add(m);
      out.push(this.members[m]);
    }
    return out;
  }
}

/** The hashes of nginx's points for a server named `address` (weight 1), in generation order. */
export function ketamaPoints(address: string): Uint32Array {
  const base = ketamaBaseHash(address);
  const out = new Uint32Array(NGINX_KETAMA_POINTS);
  const prev = new Uint8Array(4);
  let prevHash = 0;
  for (let j = 0; j < NGINX_KETAMA_POINTS; j++) {
    // crc32(host "\0" port prev_hash), prev_hash as 4 little-endian bytes (nginx writes it so on any machine).
    prev[0] = prevHash & 0xff;
    prev[1] = (prevHash >>> 8) & 0xff;
    prev[2] = (prevHash >>> 16) & 0xff;
    prev[3] = prevHash >>> 24;
    prevHash = crcFinal(crcUpdate(base, prev, 4));
    out[j] = prevHash;
  }
  return out;
}

/** crc32 state after host, "\0" and port, as nginx splits the server string (port: trailing digits after ':'). */
function ketamaBaseHash(address: string): number {
  const bytes = Buffer.from(address, 'utf8');
  let hostEnd = bytes.length;
  let portStart = bytes.length;
  if (bytes.length >= 5 && bytes.subarray(0, 5).toString('latin1').toLowerCase() === 'unix:') {
    return crcUpdate(crcUpdate(0xffffffff, bytes.subarray(5), bytes.length - 5), ZERO_BYTE, 1);
  }
  for (let j = 0; j < bytes.length; j++) {
    const c = bytes[bytes.length - j - 1];
    if (c === 0x3a /* : */) {
      hostEnd = bytes.length - j - 1;
      portStart = bytes.length - j;
      break;
    }
    if (c < 0x30 || c > 0x39) break;
  }
  let crc = crcUpdate(0xffffffff, bytes, hostEnd);
  crc = crcUpdate(crc, ZERO_BYTE, 1);
  return crcUpdate(crc, bytes.subarray(portStart), bytes.length - portStart);
}
const ZERO_BYTE = new Uint8Array(1);

/** nginx drops points whose hash equals the previous point's, keeping the first (lowest member index). */
function dedupeKeepFirst(points: Points): Points {
  const n = points.length;
  let kept = 0;
  for (let i = 0; i < n; i++) if (i === 0 || points.pos[i] !== points.pos[i - 1]) kept++;
  if (kept === n) return points;
  const packed = new Float64Array(kept);
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (i === 0 || points.pos[i] !== points.pos[i - 1]) packed[k++] = points.pos[i] * MEMBER_SPACE + points.owner[i];
  }
  return new Points(packed);
}
