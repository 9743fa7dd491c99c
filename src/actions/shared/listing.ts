// What ListObjects, ListObjectsV2 and ListObjectVersions share: max-keys, encoding-type, the
// continuation token, and the XML of one entry.
import { S3Error } from '../../s3/errors.js';
import type { ListEntry } from '../../ufs/ufs.js';
import { isoDate, ownerXml, quoteEtag, urlEncodeKey } from './wire.js';

export const DEFAULT_MAX_KEYS = 1000;

export function parseMaxKeys(raw: string | undefined, name = 'max-keys'): number {
  if (raw === undefined || raw === '') return DEFAULT_MAX_KEYS;
  if (!/^\d+$/.test(raw.trim())) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { fields: { ArgumentName: name, ArgumentValue: raw } });
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n > 2_147_483_647) {
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, { fields: { ArgumentName: name, ArgumentValue: raw } });
  }
  return Math.min(n, DEFAULT_MAX_KEYS);
}

/** encoding-type: absent or `url`; returns the encoder for keys in the answer. */
export function parseEncodingType(raw: string | undefined): ((s: string) => string) | null {
  if (raw === undefined || raw === '') return null;
  if (raw.toLowerCase() === 'url') return urlEncodeKey;
  throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', { fields: { ArgumentName: 'encoding-type', ArgumentValue: raw } });
}

const TOKEN_VERSION = '1';

/** The continuation token: opaque to clients, the last key or prefix returned for us. */
export function makeContinuationToken(last: string): string {
  return Buffer.from(`${TOKEN_VERSION}:${last}`, 'utf8').toString('base64url');
}

export function readContinuationToken(token: string): string {
  const bad = () => new S3Error('InvalidArgument', 'The continuation token provided is incorrect', { fields: { ArgumentName: 'continuation-token', ArgumentValue: token } });
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (!text.startsWith(`${TOKEN_VERSION}:`) || Buffer.from(text, 'utf8').toString('base64url') !== token) throw bad();
  return text.slice(TOKEN_VERSION.length + 1);
}

export function entryXml(e: ListEntry, enc: (s: string) => string, withOwner: boolean, fallbackOwner: string): Record<string, unknown> {
  return {
    Key: enc(e.key),
    LastModified: isoDate(e.lastModified),
    ETag: quoteEtag(e.etag),
    Size: e.size,
    ...(withOwner ? { Owner: ownerXml(e.owner ?? fallbackOwner) } : {}),
    StorageClass: 'STANDARD',
  };
}

export const identity = (s: string): string => s;

/** The query parameters every listing reads: prefix, delimiter, a marker, max-keys, encoding-type. */
export interface ListingQuery {
  prefix: string;
  delimiter: string;
  marker: string;
  maxKeys: number;
  /** Set when encoding-type=url was asked. */
  encode: ((s: string) => string) | null;
  /** The encoder to apply to keys in the answer (identity without encoding-type). */
  enc: (s: string) => string;
}

export function listingQuery(query: Record<string, string>, markerParam: string): ListingQuery {
  const encode = parseEncodingType(query['encoding-type']);
  return {
    prefix: query.prefix ?? '',
    delimiter: query.delimiter ?? '',
    marker: query[markerParam] ?? '',
    maxKeys: parseMaxKeys(query['max-keys']),
    encode,
    enc: encode ?? identity,
  };
}
