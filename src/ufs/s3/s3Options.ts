// Options of an S3 mount: `s3://bucket/optional/prefix/` plus `--option key=value` settings named
// as the spec's system names them (each also accepted with a `strata.` or `alluxio.` prefix).
// Worker-wide defaults for the same names come from the configuration (strata.underfs.s3.*).
import { StorageError } from '../errors.js';

export interface S3UfsOptions {
  /** The store's bucket. */
  bucket: string;
  /** Key prefix inside the store's bucket ('' or ending with '/'). */
  prefix: string;
  /** Custom endpoint (S3-compatible stores); undefined means AWS. */
  endpoint?: string;
  region: string;
  /** Path-style addressing (underfs.s3.disable.dns.buckets). */
  forcePathStyle: boolean;
  /** Static keys; undefined means the standard AWS credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Time to open a connection. */
  connectTimeoutMs: number;
  /** Longest silence on a connection while a request or body is in flight. */
  socketTimeoutMs: number;
  /** Longest time of a request without a streamed body (HEAD, LIST, DELETE, copy, complete) and until a GET's headers arrive. */
  requestTimeoutMs: number;
  /** Retries of a failed request that can be repeated (not writes of a streamed body). */
  maxErrorRetry: number;
  /** Connections kept open to the store (keep-alive agent size). */
  maxConnections: number;
  /** Send parts of a large PUT concurrently (underfs.object.store.multipart.upload.async). */
  multipartAsync: boolean;
  /** Parts sent at once when async (underfs.s3.upload.threads.max). */
  uploadThreads: number;
  /** Part buffers held in memory at once (underfs.s3.multipart.upload.buffer.number). */
  uploadBuffers: number;
  /** Part size of a PUT sent to the store as a multipart upload (underfs.s3.streaming.upload.partition.size). */
  partSize: number;
  /** Use the store's If-Match / If-None-Match on conditional writes and deletes. */
  conditionalWrites: boolean;
}

/** Option names as accepted (after the prefix is removed), with their defaults. */
export const S3_OPTION_DEFAULTS: Readonly<Record<string, string>> = {
  's3a.accessKeyId': '',
  's3a.secretKey': '',
  's3a.sessionToken': '',
  'underfs.s3.endpoint': '',
  'underfs.s3.endpoint.region': '',
  'underfs.s3.disable.dns.buckets': 'false',
  'underfs.s3.connect.timeout': '10s',
  'underfs.s3.socket.timeout': '50s',
  'underfs.s3.request.timeout': '1min',
  'underfs.s3.max.error.retry': '2',
  'underfs.s3.threads.max': '64',
  'underfs.object.store.multipart.upload.async': 'false',
  'underfs.s3.upload.threads.max': '20',
  'underfs.s3.multipart.upload.buffer.number': '64',
  'underfs.s3.streaming.upload.partition.size': '64MB',
  'underfs.s3.conditional.writes.enabled': 'true',
};

/** `strata.underfs.s3.endpoint`, `alluxio.underfs.s3.endpoint` and `underfs.s3.endpoint` are one name. */
export function canonicalOptionName(name: string): string {
  return name.trim().replace(/^(strata|alluxio)\./, '');
}

/** Parses `s3://bucket/prefix/` and the options; throws StorageError('Invalid') with a clear message. */
export function parseS3Options(uri: string, raw: Record<string, string>, defaults: Record<string, string> = {}): S3UfsOptions {
  const m = /^s3a?:\/\/([^/]+)(\/.*)?$/.exec(uri);
  if (!m) throw new StorageError('Invalid', `"${uri}" is not an S3 URI: use s3://<bucket>/<optional prefix>/.`);
  const bucket = m[1];
  let prefix = (m[2] ?? '').replace(/^\/+/, '');
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  const o: Record<string, string> = { ...S3_OPTION_DEFAULTS };
  for (const src of [defaults, raw]) {
    for (const [k, v] of Object.entries(src)) {
      const name = canonicalOptionName(k);
      if (!(name in S3_OPTION_DEFAULTS)) {
        if (src === raw) throw new StorageError('Invalid', `Unknown S3 mount option "${k}"; known: ${Object.keys(S3_OPTION_DEFAULTS).join(', ')}.`);
        continue;
      }
      if (v !== '' || src === raw) o[name] = v;
    }
  }
  const duration = (name: string) => num(name, () => parseDuration(o[name]));
  const int = (name: string) => num(name, () => (/^\d+$/.test(o[name].trim()) ? Number(o[name]) : NaN));
  const bool = (name: string) => {
    const v = o[name].trim().toLowerCase();
    if (v !== 'true' && v !== 'false') throw new StorageError('Invalid', `S3 mount option ${name}: "${o[name]}" is not true or false.`);
    return v === 'true';
  };
  const num = (name: string, parse: () => number) => {
    let n: number;
    try {
      n = parse();
    } catch {
      n = NaN;
    }
    if (!Number.isFinite(n) || n < 0) throw new StorageError('Invalid', `S3 mount option ${name}: "${o[name]}" is not a valid value.`);
    return n;
  };
  const accessKeyId = o['s3a.accessKeyId'];
  const secretAccessKey = o['s3a.secretKey'];
  if (!!accessKeyId !== !!secretAccessKey) throw new StorageError('Invalid', 'S3 mount options s3a.accessKeyId and s3a.secretKey go together: give both or neither (the AWS credential chain).');
  let endpoint = o['underfs.s3.endpoint'].trim() || undefined;
  if (endpoint && !/^https?:\/\//.test(endpoint)) endpoint = `https://${endpoint}`;
  const partSize = num('underfs.s3.streaming.upload.partition.size', () => parseSize(o['underfs.s3.streaming.upload.partition.size']));
  if (partSize < 5 * 1024 * 1024) throw new StorageError('Invalid', 'S3 mount option underfs.s3.streaming.upload.partition.size must be at least 5MB (S3\'s smallest part).');
  return {
    bucket,
    prefix,
    endpoint,
    region: o['underfs.s3.endpoint.region'].trim() || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle: bool('underfs.s3.disable.dns.buckets'),
    credentials: accessKeyId ? { accessKeyId, secretAccessKey, sessionToken: o['s3a.sessionToken'] || undefined } : undefined,
    connectTimeoutMs: duration('underfs.s3.connect.timeout'),
    socketTimeoutMs: duration('underfs.s3.socket.timeout'),
    requestTimeoutMs: duration('underfs.s3.request.timeout'),
    maxErrorRetry: int('underfs.s3.max.error.retry'),
    maxConnections: Math.max(1, int('underfs.s3.threads.max')),
    multipartAsync: bool('underfs.object.store.multipart.upload.async'),
    uploadThreads: Math.max(1, int('underfs.s3.upload.threads.max')),
    uploadBuffers: Math.max(1, int('underfs.s3.multipart.upload.buffer.number')),
    partSize,
    conditionalWrites: bool('underfs.s3.conditional.writes.enabled'),
  };
}

// The configuration's duration and size syntax (server/configSchema.ts; ufs/ sits below server/).
const MS: Record<string, number> = { '': 1, ms: 1, s: 1000, sec: 1000, second: 1000, seconds: 1000, m: 60_000, min: 60_000, minute: 60_000, minutes: 60_000, h: 3_600_000, hour: 3_600_000, hours: 3_600_000, d: 86_400_000, day: 86_400_000, days: 86_400_000 };
const BYTES: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? MS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * unit;
}

function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? BYTES[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`not a size: ${text}`);
  return Math.floor(Number(m[1]) * unit);
}
