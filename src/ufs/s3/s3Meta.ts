// How Strata's object metadata maps onto an S3 store's (docs/ufs-s3.md has the table).
// Content headers and user metadata are the store's own; Strata's extras ride as user metadata
// under the reserved `strata-` names; a user's own metadata named `strata-*` is escaped.
import type { ObjectMeta } from '../ufs.js';
import { emptyMeta } from '../ufs.js';

const OWNER = 'strata-owner';
/** A user's metadata whose name starts with `strata-` is stored as `strata-u-<name>`. */
const ESCAPE = 'strata-u-';
const CHECKSUMS = ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const;

/** The x-amz-meta-* map (names without the prefix) to send for `meta`. */
export function toStoreMetadata(meta: ObjectMeta): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta.userMetadata)) out[k.startsWith('strata-') ? ESCAPE + k : k] = v;
  if (meta.owner) out[OWNER] = meta.owner;
  return out;
}

/** The content headers to send for `meta` (PutObject, CreateMultipartUpload and CopyObject take the same names). */
export function toStoreHeaders(meta: ObjectMeta): {
  ContentType?: string; ContentEncoding?: string; ContentDisposition?: string; ContentLanguage?: string; CacheControl?: string; Expires?: Date;
} {
  const expires = meta.expires ? new Date(meta.expires) : undefined;
  return {
    ContentType: meta.contentType,
    ContentEncoding: meta.contentEncoding,
    ContentDisposition: meta.contentDisposition,
    ContentLanguage: meta.contentLanguage,
    CacheControl: meta.cacheControl,
    Expires: expires && !Number.isNaN(expires.getTime()) ? expires : undefined,
  };
}

/** Tags as the x-amz-tagging header wants them. */
export function tagQuery(tags: Array<[string, string]>): string | undefined {
  if (tags.length === 0) return undefined;
  return tags.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

/** What HeadObject and GetObject answer about an object. */
export interface StoreHead {
  ContentType?: string;
  ContentEncoding?: string;
  ContentDisposition?: string;
  ContentLanguage?: string;
  CacheControl?: string;
  Expires?: Date;
  ExpiresString?: string;
  Metadata?: Record<string, string>;
  ETag?: string;
  LastModified?: Date;
  ContentLength?: number;
  ChecksumCRC32?: string;
  ChecksumCRC32C?: string;
  ChecksumSHA1?: string;
  ChecksumSHA256?: string;
  ChecksumCRC64NVME?: string;
  ChecksumType?: string;
  VersionId?: string;
  PartsCount?: number;
  TagCount?: number;
}

export function fromStoreHead(h: StoreHead, tags: Array<[string, string]>): ObjectMeta {
  const meta = emptyMeta();
  meta.contentType = h.ContentType;
  meta.contentEncoding = h.ContentEncoding;
  meta.contentDisposition = h.ContentDisposition;
  meta.contentLanguage = h.ContentLanguage;
  meta.cacheControl = h.CacheControl;
  meta.expires = h.ExpiresString ?? h.Expires?.toUTCString();
  for (const [name, v] of Object.entries(h.Metadata ?? {})) {
    const k = name.toLowerCase();
    if (k === OWNER) meta.owner = v;
    else if (k.startsWith(ESCAPE)) meta.userMetadata[k.slice(ESCAPE.length)] = v;
    else if (!k.startsWith('strata-')) meta.userMetadata[k] = v;
  }
  meta.tags = tags;
  for (const alg of CHECKSUMS) {
    const v = h[`Checksum${alg}`];
    if (v) meta.checksums[alg] = v;
  }
  if (h.ChecksumType === 'COMPOSITE' || h.ChecksumType === 'FULL_OBJECT') meta.checksumType = h.ChecksumType;
  const parts = /-(\d+)$/.exec(unquote(h.ETag ?? ''));
  if (parts) meta.partsCount = Number(parts[1]);
  return meta;
}

export function unquote(etag: string): string {
  return etag.replace(/^"(.*)"$/, '$1');
}

/** Which fields updateMeta must send with CopyObject (anything but the tags). */
export function sameStoredMeta(a: ObjectMeta, b: ObjectMeta): boolean {
  const pick = (m: ObjectMeta) => JSON.stringify([toStoreHeaders(m), toStoreMetadata(m)]);
  return pick(a) === pick(b);
}

/** A `dir/` folder object: S3 lets such a key hold bytes, which makes it an ordinary object. */
export function isFolderKey(key: string, size: number): boolean {
  return key.endsWith('/') && size === 0;
}

/**
 * Checksums given before the body (x-amz-checksum-* request headers), sent on to the store, which
 * verifies and keeps them; checksums known only at the end (trailers, computed) cannot be sent.
 */
export function toStoreChecksums(checksums: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const alg of CHECKSUMS) if (checksums[alg]) out[`Checksum${alg}`] = checksums[alg];
  return out;
}
