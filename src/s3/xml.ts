// XML in and out: size-capped request parsing and response building (fast-xml-parser).
import type { IncomingMessage } from 'node:http';
import { XMLBuilder, XMLParser } from 'fast-xml-parser';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { bodyDecodersFor } from './body/bodyVerifier.js';
import { S3Error } from './errors.js';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: false, suppressEmptyNode: false });

/** One S3 response document: `<Root xmlns="...">...</Root>` with a declaration. */
export function xmlDocument(root: string, body: Record<string, unknown>, xmlns: string | null = S3_XMLNS): string {
  const content = xmlns ? { '@_xmlns': xmlns, ...body } : body;
  return DECLARATION + builder.build({ [root]: content });
}

/** Elements that may repeat in request documents: always parsed as arrays. */
const REPEATED = new Set(['Object', 'Tag', 'Part', 'Grant']);

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  // XML's five named entities, and numeric character references (`&#34;`, `&#x22;`), which Go's
  // encoding/xml (rclone, minio clients) writes for every quote of an ETag. No HTML entities.
  // (The typings say boolean; fast-xml-parser 5 takes a map of the named entities to decode.)
  htmlEntities: { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" } as unknown as boolean,
  removeNSPrefix: true,
  isArray: (name) => REPEATED.has(name),
});

export function parseXml(text: string): Record<string, unknown> {
  try {
    return parser.parse(text, true) as Record<string, unknown>;
  } catch {
    throw new S3Error('MalformedXML');
  }
}

/**
 * Reads a request body of at most `maxBytes` and parses it; an empty body is
 * MissingRequestBodyError. The body goes through the same decoding and verification as object
 * bodies (Content-MD5, x-amz-checksum-*, aws-chunked), so a document that does not match its
 * digest is refused before anything acts on it. With `integrityRequired` (DeleteObjects, as S3
 * has it) a request without Content-MD5 or a checksum is refused.
 */
export async function readXmlBody(req: IncomingMessage, maxBytes: number, opts: { integrityRequired?: boolean; checksumHeadersDescribeObject?: boolean } = {}): Promise<Record<string, unknown>> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes && req.headers['x-amz-decoded-content-length'] === undefined) {
    throw new S3Error('MalformedXML', `The XML you provided was larger than the maximum ${maxBytes} bytes allowed.`);
  }
  if (opts.integrityRequired && !hasIntegrityHeader(req.headers)) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header).');
  }
  const { streams, verifier } = bodyDecodersFor(req.headers, opts);
  const chunks: Buffer[] = [];
  let size = 0;
  const collect = new Writable({
    write(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) return done(new S3Error('MalformedXML', `The XML you provided was larger than the maximum ${maxBytes} bytes allowed.`));
      chunks.push(chunk);
      done();
    },
  });
  await pipeline([req, ...streams, verifier, collect]);
  if (size === 0) throw new S3Error('MissingRequestBodyError');
  return parseXml(Buffer.concat(chunks).toString('utf8'));
}

function hasIntegrityHeader(h: IncomingMessage['headers']): boolean {
  if (h['content-md5'] !== undefined || h['x-amz-trailer'] !== undefined) return true;
  return Object.keys(h).some((name) => name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-algorithm' && name !== 'x-amz-checksum-type' && name !== 'x-amz-checksum-mode');
}

/** Reads a child element that must be text; arrays or nested elements are MalformedXML. */
export function textOf(node: unknown): string | undefined {
  if (node === undefined || node === null) return undefined;
  if (typeof node === 'string') return node;
  if (typeof node === 'object' && Object.keys(node as object).length === 0) return '';
  throw new S3Error('MalformedXML');
}

export function elementOf(doc: Record<string, unknown>, name: string): Record<string, unknown> {
  const node = doc[name];
  if (node === '' ) return {};
  if (!node || typeof node !== 'object' || Array.isArray(node)) throw new S3Error('MalformedXML');
  return node as Record<string, unknown>;
}

export function arrayOf(node: unknown): Record<string, unknown>[] {
  if (node === undefined) return [];
  const list = Array.isArray(node) ? node : [node];
  for (const item of list) if (!item || typeof item !== 'object') throw new S3Error('MalformedXML');
  return list as Record<string, unknown>[];
}
