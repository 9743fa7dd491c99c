// The headers S3 sends with an object on GET and HEAD, and the stored headers read from a PUT.
import type { ByteRange, ObjectMeta, ObjectStatus } from '../../ufs/ufs.js';
import { stripAwsChunked } from '../../s3/body/bodyVerifier.js';
import { S3Error } from '../../s3/errors.js';
import type { S3Request } from '../../s3/handler.js';
import { partsCountOf } from './partNumber.js';
import { header, httpDate, quoteEtag } from './wire.js';

/** Content headers S3 stores with an object and returns on GET/HEAD. */
const STORED_HEADERS = [
  ['content-type', 'contentType'],
  ['content-encoding', 'contentEncoding'],
  ['content-disposition', 'contentDisposition'],
  ['content-language', 'contentLanguage'],
  ['cache-control', 'cacheControl'],
  ['expires', 'expires'],
] as const;

/** response-* query parameters override the stored headers on GET. */
const OVERRIDES = {
  'response-content-type': 'Content-Type',
  'response-content-encoding': 'Content-Encoding',
  'response-content-disposition': 'Content-Disposition',
  'response-content-language': 'Content-Language',
  'response-cache-control': 'Cache-Control',
  'response-expires': 'Expires',
} as const;

const DISPLAY_NAME: Record<string, string> = {
  'content-type': 'Content-Type',
  'content-encoding': 'Content-Encoding',
  'content-disposition': 'Content-Disposition',
  'content-language': 'Content-Language',
  'cache-control': 'Cache-Control',
  expires: 'Expires',
};

export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';

/** S3's storage classes: any is accepted (every object is stored alike), anything else refused. */
const STORAGE_CLASSES = new Set([
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER',
  'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE', 'FSX_OPENZFS',
]);

/** x-amz-storage-class of a request that makes an object: InvalidStorageClass unless S3 knows it. */
export function checkStorageClass(r: S3Request): void {
  checkStorageClassValue(header(r, 'x-amz-storage-class'));
}

/** The same for a value from elsewhere (a POST form's field). */
export function checkStorageClassValue(v: string | undefined): void {
  if (v !== undefined && !STORAGE_CLASSES.has(v)) throw new S3Error('InvalidStorageClass', 'The storage class you specified is not valid', { fields: { StorageClassRequested: v } });
}

/** Reads the stored content headers and x-amz-meta-* from a PUT (or CreateMultipartUpload, CopyObject REPLACE). */
export function storedMetaFromRequest(r: S3Request): Omit<ObjectMeta, 'tags' | 'checksums'> {
  return storedMetaFromHeaders(r.req.headers, r.identity.user);
}

/** The same from headers (lower-case names), or from the fields of a POST form. */
export function storedMetaFromHeaders(h: Readonly<Record<string, string | string[] | undefined>>, owner: string): Omit<ObjectMeta, 'tags' | 'checksums'> {
  const meta: Omit<ObjectMeta, 'tags' | 'checksums'> = { userMetadata: {}, owner };
  for (const [name, field] of STORED_HEADERS) {
    const v = h[name];
    if (typeof v === 'string') {
      // aws-chunked is a transfer detail of this request, not part of the object.
      const value = name === 'content-encoding' ? stripAwsChunked(v) : v;
      if (value) meta[field] = value;
    }
  }
  for (const [name, value] of Object.entries(h)) {
    if (name.startsWith('x-amz-meta-') && value !== undefined) {
      meta.userMetadata[name.slice('x-amz-meta-'.length)] = Array.isArray(value) ? value.join(',') : value;
    }
  }
  return meta;
}

/** The request headers that store `meta`'s content headers and metadata (a PutObject sent on). */
export function storedHeadersOf(meta: Omit<ObjectMeta, 'tags' | 'checksums'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, field] of STORED_HEADERS) {
    const v = meta[field];
    if (v !== undefined) out[name] = v;
  }
  for (const [k, v] of Object.entries(meta.userMetadata)) out[`x-amz-meta-${k}`] = v;
  return out;
}

/** An HTTP token: what a header name (so a metadata name) may be made of. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Stored headers that did not come through the HTTP parser (a POST form's fields) must be
 * sendable as headers later, or every GET of the object would fail: InvalidArgument otherwise.
 */
export function checkSendable(meta: Omit<ObjectMeta, 'tags' | 'checksums'>): void {
  for (const [name, field] of STORED_HEADERS) {
    const v = meta[field];
    if (v !== undefined && !SENDABLE.test(v)) throw new S3Error('InvalidArgument', `The value of ${name} may not hold control characters.`, { fields: { ArgumentName: name } });
  }
  for (const [name, v] of Object.entries(meta.userMetadata)) {
    if (!TOKEN.test(name)) throw new S3Error('InvalidArgument', 'A metadata name must be an HTTP token (letters, digits and !#$%&\'*+.^_`|~-).', { fields: { ArgumentName: `x-amz-meta-${name}` } });
    if (!SENDABLE.test(v)) throw new S3Error('InvalidArgument', 'A metadata value may not hold control characters.', { fields: { ArgumentName: `x-amz-meta-${name}` } });
  }
}

export interface ObjectHeaderOptions {
  /** Add x-amz-checksum-* (x-amz-checksum-mode: ENABLED on a whole-object read). */
  checksums: boolean;
  /** Query of a GET, for response-* overrides. */
  query?: Record<string, string>;
}

export function objectHeaders(status: ObjectStatus, opts: ObjectHeaderOptions): Record<string, string> {
  const m = status.meta;
  const out: Record<string, string> = {
    ETag: quoteEtag(status.etag),
    'Last-Modified': httpDate(status.lastModified),
    'Accept-Ranges': 'bytes',
    'Content-Type': m.contentType ?? DEFAULT_CONTENT_TYPE,
  };
  for (const [name, field] of STORED_HEADERS) {
    const v = m[field];
    if (v !== undefined && name !== 'content-type') out[DISPLAY_NAME[name]] = v;
  }
  for (const [k, v] of Object.entries(m.userMetadata)) out[`x-amz-meta-${k}`] = encodeHeaderValue(v);
  if (m.tags.length > 0) out['x-amz-tagging-count'] = String(m.tags.length);
  if (opts.checksums) {
    for (const [alg, value] of Object.entries(m.checksums)) out[`x-amz-checksum-${alg.toLowerCase()}`] = value;
    if (Object.keys(m.checksums).length > 0) out['x-amz-checksum-type'] = m.checksumType ?? 'FULL_OBJECT';
  }
  if (opts.query) {
    for (const [param, headerName] of Object.entries(OVERRIDES)) {
      const v = opts.query[param];
      if (v !== undefined) out[headerName] = overrideValue(v);
    }
  }
  return out;
}

/** The status code, headers and body length of GetObject and HeadObject for the range sent (null: all). */
export function readAnswer(r: S3Request, status: ObjectStatus, range: ByteRange | null): { code: 200 | 206; headers: Record<string, string>; length: number } {
  const headers = objectHeaders(status, {
    checksums: !range && header(r, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED',
    query: r.endpoint.query,
  });
  const length = range ? range.end - range.start + 1 : status.size;
  headers['Content-Length'] = String(length);
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${status.size}`;
  // Only with ?partNumber, and only for an object uploaded in parts, as S3 sends it.
  if (r.endpoint.query.partNumber !== undefined && status.meta.partsCount !== undefined) headers['x-amz-mp-parts-count'] = String(partsCountOf(status));
  return { code: range ? 206 : 200, headers, length };
}

/**
 * Header values arrive as bytes read as Latin-1 and go back the same way, so UTF-8 metadata
 * round-trips byte for byte; anything Node cannot send is RFC 2047-encoded, as S3 does.
 */
function encodeHeaderValue(v: string): string {
  return SENDABLE.test(v) ? v : rfc2047(Buffer.from(v, 'utf8'));
}

/**
 * A response-* value is text (the query is decoded as UTF-8): it goes out as its UTF-8 bytes,
 * or RFC 2047-encoded when it holds control characters, which no header may carry.
 */
function overrideValue(v: string): string {
  const utf8 = Buffer.from(v, 'utf8');
  const bytes = utf8.toString('latin1');
  return SENDABLE.test(bytes) ? bytes : rfc2047(utf8);
}

// eslint-disable-next-line no-control-regex
const SENDABLE = /^[\t\x20-\x7e\x80-\xff]*$/;

const rfc2047 = (utf8: Buffer) => `=?UTF-8?B?${utf8.toString('base64')}?=`;
