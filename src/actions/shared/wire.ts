// Small wire formats shared by actions: quoted ETags, HTTP and ISO dates, owners, URL encoding.
import type { S3Request } from '../../s3/handler.js';

export const quoteEtag = (etag: string): string => `"${etag}"`;

export const httpDate = (d: Date): string => d.toUTCString();

/** S3's timestamps in XML: ISO 8601 with milliseconds, UTC. */
export const isoDate = (d: Date): string => d.toISOString();

export function ownerXml(user: string): { ID: string; DisplayName: string } {
  return { ID: user, DisplayName: user };
}

/** encoding-type=url: percent-encode all but unreserved characters and '/'. */
export function urlEncodeKey(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The URL of an object as the client reached this worker (a Location S3 answers with). */
export function objectUrl(r: S3Request, bucket: string, key: string): string {
  const scheme = (r.req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  return `${scheme}://${header(r, 'host') ?? 'localhost'}/${encodeURIComponent(bucket)}/${urlEncodeKey(key)}`;
}

export function header(r: S3Request, name: string): string | undefined {
  const v = r.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
