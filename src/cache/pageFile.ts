// One cache page on disk: a fixed header, the page's bytes, then a trailer naming what the page
// is. The header carries a CRC-32 of the bytes, checked on every read from disk, so a corrupt or
// truncated page is a miss, never wrong data. The header and bytes come first so that a hit is one
// pread of a known length; the trailer is read only when the cache is found again at start.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

export const HEADER_BYTES = 32;
const MAGIC = 0x53545047; // "STPG"
const FORMAT = 1;
/** Disk space is counted in filesystem blocks, so the quota is one of real usage. */
const BLOCK = 4096;

/** What a page is: the object (mount, key), its version and the page's index in it. */
export interface PageRef {
  mount: string;
  key: string;
  version: string;
  index: number;
}

/** A file's identity in the cache: names the folder its pages live in. */
export function fileHash(mount: string, key: string): string {
  return createHash('sha1').update(mount).update('\0').update(key).digest('hex');
}

export function versionHash(version: string): string {
  return createHash('sha1').update(version).digest('hex').slice(0, 16);
}

/** The page's id, also its path below a cache folder: `<fh[0:2]>/<fh>/<vh>.<index>`. */
export function pageId(fh: string, vh: string, index: number): string {
  return `${fh.slice(0, 2)}/${fh}/${vh}.${index}`;
}

/** Which of `n` folders holds a page (by hash, so every process finds it without asking). */
export function dirOf(id: string, n: number): number {
  return n === 1 ? 0 : crc32(id) % n;
}

export function pagePath(dir: string, id: string): string {
  return join(dir, id);
}

/** Bytes a page file of `dataLength` bytes takes on disk, for the quota. */
export function diskBytes(dataLength: number, trailerLength = 256): number {
  return Math.ceil((HEADER_BYTES + dataLength + trailerLength) / BLOCK) * BLOCK;
}

/** The header and the trailer to write around `data`. */
export function encodePage(ref: PageRef, data: Buffer): { header: Buffer; trailer: Buffer } {
  const trailer = Buffer.from(JSON.stringify({ m: ref.mount, k: ref.key, v: ref.version, i: ref.index }));
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(MAGIC, 0);
  header.writeUInt32BE(FORMAT, 4);
  header.writeUInt32BE(data.length, 8);
  header.writeUInt32BE(crc32(data), 12);
  header.writeUInt32BE(trailer.length, 16);
  return { header, trailer };
}

export type PageCheck = 'ok' | 'corrupt';

/** Checks a header + bytes read from disk against the length expected; 'corrupt' covers truncation. */
export function checkPage(buf: Buffer, bytesRead: number, dataLength: number): PageCheck {
  if (bytesRead !== HEADER_BYTES + dataLength) return 'corrupt';
  if (buf.readUInt32BE(0) !== MAGIC || buf.readUInt32BE(4) !== FORMAT) return 'corrupt';
  if (buf.readUInt32BE(8) !== dataLength) return 'corrupt';
  const crc = crc32(buf.subarray(HEADER_BYTES, HEADER_BYTES + dataLength));
  return crc === buf.readUInt32BE(12) ? 'ok' : 'corrupt';
}

/** Parses a header alone (restore): the data and trailer lengths, or null when it is not a page. */
export function parseHeader(buf: Buffer): { dataLength: number; trailerLength: number } | null {
  if (buf.length < HEADER_BYTES || buf.readUInt32BE(0) !== MAGIC || buf.readUInt32BE(4) !== FORMAT) return null;
  return { dataLength: buf.readUInt32BE(8), trailerLength: buf.readUInt32BE(16) };
}

export function parseTrailer(buf: Buffer): PageRef | null {
  try {
    const t = JSON.parse(buf.toString('utf8')) as { m: unknown; k: unknown; v: unknown; i: unknown };
    if (typeof t.m !== 'string' || typeof t.k !== 'string' || typeof t.v !== 'string' || typeof t.i !== 'number') return null;
    return { mount: t.m, key: t.k, version: t.v, index: t.i };
  } catch {
    return null;
  }
}
