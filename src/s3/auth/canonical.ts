// SigV4 canonicalization (pure functions): the canonical request, the string to sign and the
// signing key, as AWS defines them for S3. S3 differs from other services in two ways that
// matter here: the path is not normalized (no `.`/`..` folding, no merging of slashes) and not
// double-encoded; the payload hash is the x-amz-content-sha256 value the client sent.
import { createHash, createHmac } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper case); '/' kept when `keepSlash`. */
export function uriEncode(s: string, keepSlash = false): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (
      (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x2d || byte === 0x5f || byte === 0x2e || byte === 0x7e || (keepSlash && byte === 0x2f)
    ) {
      out += String.fromCharCode(byte);
    } else {
      out += '%' + (byte < 16 ? '0' : '') + byte.toString(16).toUpperCase();
    }
  }
  return out;
}

/** Percent-decoding that never throws: a malformed escape is kept as it is. */
export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(/(%[0-9a-fA-F]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}

/**
 * The canonical URI of a raw request path: each segment decoded and re-encoded strictly. A client
 * that encoded the path strictly (AWS SDKs, botocore, the AWS CLI) signed exactly this.
 */
export function canonicalUri(rawPath: string): string {
  if (rawPath === '') return '/';
  return rawPath.split('/').map((seg) => uriEncode(safeDecode(seg))).join('/');
}

/**
 * The canonical query string of a raw query (without '?'): pairs decoded ('+' as a space, as S3
 * reads queries), re-encoded strictly, sorted by name then value; `exclude` names are left out
 * (X-Amz-Signature of a presigned URL).
 */
export function canonicalQuery(rawQuery: string, exclude?: string): string {
  if (!rawQuery) return '';
  const pairs: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = safeDecode((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    if (name === exclude) continue;
    const value = eq < 0 ? '' : safeDecode(part.slice(eq + 1).replace(/\+/g, ' '));
    pairs.push([uriEncode(name), uriEncode(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

/** Header values as SigV4 signs them: trimmed, inner runs of spaces and tabs folded to one space. */
export function canonicalHeaderValue(v: string): string {
  return v.trim().replace(/[ \t]+/g, ' ');
}

/**
 * The values of each signed header from raw headers ([name, value, name, value, ...] as Node's
 * rawHeaders gives them): every occurrence of a name, in order, joined with ','.
 */
export function signedHeaderValues(rawHeaders: readonly string[], names: readonly string[]): Map<string, string> {
  const wanted = new Set(names);
  const values = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase();
    if (!wanted.has(name)) continue;
    const list = values.get(name) ?? [];
    list.push(canonicalHeaderValue(rawHeaders[i + 1]));
    values.set(name, list);
  }
  const out = new Map<string, string>();
  for (const n of names) out.set(n, (values.get(n) ?? []).join(','));
  return out;
}

export interface CanonicalParts {
  method: string;
  /** Already canonical (see canonicalUri). */
  uri: string;
  /** Already canonical (see canonicalQuery). */
  query: string;
  /** Signed header names, lower case, in the order given (sorted by the client). */
  signedHeaders: readonly string[];
  headerValues: Map<string, string>;
  payloadHash: string;
}

export function canonicalRequest(p: CanonicalParts): string {
  let headers = '';
  for (const n of p.signedHeaders) headers += `${n}:${p.headerValues.get(n) ?? ''}\n`;
  return `${p.method}\n${p.uri}\n${p.query}\n${headers}\n${p.signedHeaders.join(';')}\n${p.payloadHash}`;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function hmac(key: Uint8Array | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** `20130524/us-east-1/s3/aws4_request` */
export function scopeOf(date: string, region: string, service: string): string {
  return `${date}/${region}/${service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequestText: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequestText)}`;
}

// Derived keys change once a day per secret; a small cache saves four HMACs per request.
const keyCache = new Map<string, Buffer>();
const KEY_CACHE_MAX = 1024;

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"). */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  // Held in memory like the secret itself; never logged.
  const id = `${date}/${region}/${service}/${secret}`;
  const hit = keyCache.get(id);
  if (hit) return hit;
  const k = hmac(hmac(hmac(hmac('AWS4' + secret, date), region), service), 'aws4_request');
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
  keyCache.set(id, k);
  return k;
}

export function signatureOf(key: Uint8Array, text: string): string {
  return createHmac('sha256', key).update(text, 'utf8').digest('hex');
}

/** String to sign of one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD). */
export function chunkStringToSign(amzDate: string, scope: string, previousSignature: string, chunkSha256Hex: string): string {
  return `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previousSignature}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;
}

/** String to sign of the trailer section (…-PAYLOAD-TRAILER): `name:value\n` per trailer. */
export function trailerStringToSign(amzDate: string, scope: string, previousSignature: string, trailerText: string): string {
  return `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${previousSignature}\n${sha256Hex(trailerText)}`;
}

/** `20130524T000000Z` -> Date, or undefined when malformed. */
export function parseAmzDate(s: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
  const d = new Date(t);
  return Number.isNaN(t) || d.getUTCDate() !== +m[3] ? undefined : d;
}

export function formatAmzDate(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
