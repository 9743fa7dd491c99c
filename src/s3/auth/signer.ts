// Signing requests with SigV4 (the CLI's admin calls; tests that craft requests by hand).
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  formatAmzDate,
  scopeOf,
  sha256Hex,
  signatureOf,
  signingKey,
  stringToSign,
} from './canonical.js';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignOptions {
  method: string;
  /** Absolute URL; its path and query are signed as they are written (already encoded). */
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** x-amz-content-sha256 to sign instead of the body's hash (UNSIGNED-PAYLOAD, STREAMING-...). */
  payloadHash?: string;
  credentials: SigningCredentials;
  region?: string;
  service?: string;
  now?: Date;
}

/** The headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256, [x-amz-security-token], authorization. */
export function signHeaders(o: SignOptions): Record<string, string> {
  const u = new URL(o.url);
  const amzDate = formatAmzDate(o.now ?? new Date());
  const region = o.region ?? 'us-east-1';
  const service = o.service ?? 's3';
  const payloadHash = o.payloadHash ?? sha256Hex(o.body ?? '');
  const headers: Record<string, string> = { ...o.headers, host: u.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': payloadHash };
  if (o.credentials.sessionToken) headers['x-amz-security-token'] = o.credentials.sessionToken;
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/[ \t]+/g, ' ')]));
  const names = [...lower.keys()].sort();
  const creq = canonicalRequest({
    method: o.method.toUpperCase(),
    uri: canonicalUri(u.pathname),
    query: canonicalQuery(u.search.slice(1)),
    signedHeaders: names,
    headerValues: lower,
    payloadHash,
  });
  const date = amzDate.slice(0, 8);
  const scope = scopeOf(date, region, service);
  const signature = signatureOf(signingKey(o.credentials.secretAccessKey, date, region, service), stringToSign(amzDate, scope, creq));
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${o.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`;
  return headers;
}

/** A presigned URL (host the only signed header, UNSIGNED-PAYLOAD). */
export function presignUrl(o: Omit<SignOptions, 'headers' | 'body' | 'payloadHash'> & { expiresSeconds: number }): string {
  const u = new URL(o.url);
  const now = o.now ?? new Date();
  const amzDate = formatAmzDate(now);
  const region = o.region ?? 'us-east-1';
  const service = o.service ?? 's3';
  const date = amzDate.slice(0, 8);
  const scope = scopeOf(date, region, service);
  const params: Array<[string, string]> = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${o.credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', amzDate],
    ['X-Amz-Expires', String(o.expiresSeconds)],
    ['X-Amz-SignedHeaders', 'host'],
  ];
  if (o.credentials.sessionToken) params.push(['X-Amz-Security-Token', o.credentials.sessionToken]);
  const extra = params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const search = u.search ? `${u.search.slice(1)}&${extra}` : extra;
  const creq = canonicalRequest({
    method: o.method.toUpperCase(),
    uri: canonicalUri(u.pathname),
    query: canonicalQuery(search),
    signedHeaders: ['host'],
    headerValues: new Map([['host', u.host]]),
    payloadHash: 'UNSIGNED-PAYLOAD',
  });
  const signature = signatureOf(signingKey(o.credentials.secretAccessKey, date, region, service), stringToSign(amzDate, scope, creq));
  return `${u.origin}${u.pathname}?${search}&X-Amz-Signature=${signature}`;
}
