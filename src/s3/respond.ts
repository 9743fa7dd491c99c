// The writers of S3 responses: XML documents, empty answers, errors (the only place that renders
// one), and the Range header. The status line is written only when the first byte is ready; a
// failure after that destroys the socket rather than sending a short body under a 200.
import type { ServerResponse } from 'node:http';
import { S3Error, toS3Error } from './errors.js';

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export interface ResponseTarget {
  res: ServerResponse;
  requestId: string;
  /** Path of the resource, for <Resource> in errors. */
  resource: string;
  isHead: boolean;
}

export function sendXml(t: ResponseTarget, status: number, xml: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(xml, 'utf8');
  t.res.writeHead(status, { ...headers, 'Content-Type': 'application/xml', 'Content-Length': String(body.length) });
  t.res.end(t.isHead ? undefined : body);
}

export function sendEmpty(t: ResponseTarget, status: number, headers: Record<string, string | number> = {}): void {
  t.res.writeHead(status, { 'Content-Length': '0', ...headers });
  t.res.end();
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The `<Error>` element: <Code/><Message/>[fields]<Resource/><RequestId/><HostId/> (HostId repeats x-amz-id-2). */
export function errorElement(e: S3Error, resource: string, requestId: string): string {
  const extra = Object.entries(e.fields).map(([k, v]) => `<${k}>${escapeXml(v)}</${k}>`).join('');
  return (
    `<Error><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message>${extra}` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`
  );
}

/** A whole error document, with the XML declaration. */
export function errorDocument(e: S3Error, resource: string, requestId: string): string {
  return XML_DECLARATION + errorElement(e, resource, requestId);
}

/** STS's error document: <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>. */
export function stsErrorDocument(e: S3Error, requestId: string): string {
  const type = e.status >= 500 ? 'Receiver' : 'Sender';
  return (
    `${XML_DECLARATION}<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type>` +
    `<Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

/** Renders an error as S3 does: <Error><Code/><Message/><Resource/><RequestId/></Error>, no body on HEAD or 304. */
export function sendError(t: ResponseTarget, error: unknown): S3Error {
  const e = toS3Error(error);
  const { res } = t;
  if (res.headersSent) {
    // Too late for an error document: a short body under a 200 would look like data.
    res.destroy(e);
    return e;
  }
  const body = Buffer.from(e.sts ? stsErrorDocument(e, t.requestId) : errorDocument(e, t.resource, t.requestId), 'utf8');
  for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  const noBody = t.isHead || e.status === 304;
  if (noBody) {
    res.removeHeader('Content-Type');
    res.writeHead(e.status, e.status === 304 ? {} : { 'Content-Length': '0' });
    res.end();
  } else {
    res.writeHead(e.status, { 'Content-Type': e.sts ? 'text/xml' : 'application/xml', 'Content-Length': String(body.length) });
    res.end(body);
  }
  return e;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/**
 * Reads a Range header against an object size. Returns null when the whole object is to be sent
 * (no header, or one S3 ignores: not `bytes=`, several ranges, or unparsable), a range otherwise;
 * an unsatisfiable range is InvalidRange (416) with `Content-Range: bytes * /size`.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw unsatisfiable(size, header);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null; // S3 ignores a reversed range
  }
  if (start >= size || size === 0) throw unsatisfiable(size, header);
  return { start, end };
}

function unsatisfiable(size: number, requested: string): S3Error {
  return new S3Error('InvalidRange', 'The requested range is not satisfiable', {
    headers: { 'Content-Range': `bytes */${size}` },
    fields: { RangeRequested: requested, ActualObjectSize: String(size) },
  });
}

/** What the conditional headers of GET and HEAD are checked against. */
export interface Validators {
  etag: string;
  lastModified: Date;
}

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

/**
 * Evaluates If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since with the precedence
 * of RFC 7232 that S3 follows: a present If-Match makes If-Unmodified-Since moot, and a present
 * If-None-Match makes If-Modified-Since moot.
 */
export function evaluateConditions(c: Conditions, v: Validators): 'ok' | 'failed' | 'not-modified' {
  const ifModifiedSince = httpDateMs(c.ifModifiedSince);
  const ifUnmodifiedSince = httpDateMs(c.ifUnmodifiedSince);
  // HTTP dates have whole seconds.
  const modified = Math.floor(v.lastModified.getTime() / 1000) * 1000;
  if (c.ifMatch !== undefined) {
    if (!etagMatches(c.ifMatch, v.etag)) return 'failed';
  } else if (ifUnmodifiedSince !== undefined && modified > ifUnmodifiedSince) {
    return 'failed';
  }
  if (c.ifNoneMatch !== undefined) {
    if (etagMatches(c.ifNoneMatch, v.etag)) return 'not-modified';
  } else if (ifModifiedSince !== undefined && modified <= ifModifiedSince) {
    return 'not-modified';
  }
  return 'ok';
}

/** The conditional headers of GET and HEAD: 412 PreconditionFailed, or 304 Not Modified with the validators. */
export function checkReadConditions(headers: Record<string, string | string[] | undefined>, v: Validators): void {
  const one = (name: string) => {
    const x = headers[name];
    return Array.isArray(x) ? x.join(',') : x;
  };
  const outcome = evaluateConditions(
    { ifMatch: one('if-match'), ifNoneMatch: one('if-none-match'), ifModifiedSince: one('if-modified-since'), ifUnmodifiedSince: one('if-unmodified-since') },
    v,
  );
  if (outcome === 'failed') throw new S3Error('PreconditionFailed');
  if (outcome === 'not-modified') {
    throw new S3Error('NotModified', undefined, { headers: { ETag: `"${v.etag}"`, 'Last-Modified': v.lastModified.toUTCString() } });
  }
}

/** An If-Match / If-None-Match list (`"a", "b"`, `W/"a"`, or `*`) against an ETag. */
export function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((item) => {
    const t = item.trim().replace(/^W\//, '');
    return t === '*' || t.replace(/^"(.*)"$/, '$1') === etag;
  });
}

function httpDateMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}
