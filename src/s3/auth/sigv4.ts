// SIGV4 verification: the Authorization header form and presigned URLs, checked against the
// secret a CredentialSource knows. Streaming (aws-chunked) bodies are verified chunk by chunk as
// they flow, from the seed signature kept in the SigningContext (chunkVerifier below).
// Secrets appear nowhere but in the HMAC calls: not in errors, not in what is returned for logs.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from '../errors.js';
import {
  ALGORITHM,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  chunkStringToSign,
  formatAmzDate,
  parseAmzDate,
  scopeOf,
  sha256Hex,
  signatureOf,
  signedHeaderValues,
  signingKey,
  stringToSign,
  trailerStringToSign,
} from './canonical.js';
import type { Credential, CredentialSource } from './credentials.js';
import { checkPresignedWindow, isoSeconds, MAX_SKEW_MS } from './presignedWindow.js';

/** What chunk and trailer signatures of a streaming body chain from. */
export interface SigningContext {
  key: Buffer;
  amzDate: string;
  scope: string;
  seedSignature: string;
}

export interface VerifiedRequest {
  credential: Credential;
  via: 'sigv4-header' | 'sigv4-query';
  signing: SigningContext;
}

/** The parts of a request the verifier reads (an IncomingMessage has them all). */
export interface SignedRequest {
  method?: string;
  /** The request target as sent: raw path and query. */
  url?: string;
  headers: IncomingHttpHeaders;
  rawHeaders: readonly string[];
}

export interface VerifyOptions {
  /** Services a credential scope may name ('s3' for the S3 API). */
  services?: readonly string[];
  now?: Date;
}

const PAYLOAD_MODES = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Whether a request carries any SigV4 or SigV2 authentication (header or query). */
export function carriesSignature(headers: IncomingHttpHeaders, rawQuery: string): boolean {
  return !!headers.authorization?.trim() || /(?:^|&)(?:X-Amz-Algorithm|X-Amz-Credential|X-Amz-Signature|AWSAccessKeyId|Signature)=/.test(rawQuery);
}

/**
 * Verifies a SigV4-signed request; throws the S3 error S3 would answer. Anonymous requests are
 * AccessDenied; SigV2 ones are refused with a clear InvalidRequest.
 */
export function verifySigV4(req: SignedRequest, source: CredentialSource, opts: VerifyOptions = {}): VerifiedRequest {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const query = rawQueryParams(rawQuery);
  const now = opts.now ?? new Date();
  const services = opts.services ?? ['s3'];
  // An empty Authorization header is no authentication at all, as S3 reads it (anonymous).
  const authorization = one(req.headers, 'authorization')?.trim() || undefined;
  const presigned = query.has('X-Amz-Algorithm') || query.has('X-Amz-Credential') || query.has('X-Amz-Signature');

  let parsed: ParsedAuth;
  if (authorization !== undefined && (presigned || query.has('Signature'))) {
    throw new S3Error('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified', { fields: { ArgumentName: 'Authorization', ArgumentValue: printable(authorization).slice(0, 200) } });
  } else if (authorization !== undefined) {
    parsed = parseAuthorizationHeader(authorization, services);
  } else if (presigned) {
    parsed = parsePresigned(query, services);
  } else if (query.has('AWSAccessKeyId') || query.has('Signature')) {
    throw sigV2Refused();
  } else {
    throw new S3Error('AccessDenied', 'Anonymous requests are not accepted: this worker requires AWS Signature Version 4 (strata.security.authentication.type).');
  }

  // The time of the request and its validity.
  let amzDateText: string;
  let requestTime: Date | undefined;
  if (parsed.presigned) {
    amzDateText = query.get('X-Amz-Date') ?? '';
    requestTime = checkPresignedWindow(amzDateText, query.get('X-Amz-Expires'), now);
  } else {
    const xAmzDate = one(req.headers, 'x-amz-date');
    if (xAmzDate !== undefined) {
      amzDateText = xAmzDate.trim();
      requestTime = parseAmzDate(amzDateText);
    } else {
      const date = one(req.headers, 'date');
      const t = date !== undefined ? Date.parse(date) : NaN;
      requestTime = Number.isNaN(t) ? undefined : new Date(t);
      amzDateText = requestTime ? formatAmzDate(requestTime) : '';
    }
    if (!requestTime) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header.');
  }
  if (parsed.date !== amzDateText.slice(0, 8)) {
    const msg = `Invalid credential date "${parsed.date}". This date is not the same as X-Amz-Date: "${amzDateText.slice(0, 8)}".`;
    throw parsed.presigned ? new S3Error('AuthorizationQueryParametersError', msg) : new S3Error('AuthorizationHeaderMalformed', msg);
  }
  if (!parsed.presigned && Math.abs(now.getTime() - requestTime.getTime()) > MAX_SKEW_MS) {
    throw new S3Error('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
      fields: { RequestTime: amzDateText, ServerTime: isoSeconds(now), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) },
    });
  }

  // Who signed, and with which token.
  const token = parsed.presigned ? query.get('X-Amz-Security-Token') : one(req.headers, 'x-amz-security-token');
  const credential = knownCredential(source, parsed.accessKeyId, token, now);

  // Every x-amz-* header sent must be signed (as S3 requires), and the host always.
  if (!parsed.signedHeaders.includes('host')) {
    const msg = 'SignedHeaders must include host.';
    throw parsed.presigned ? new S3Error('AuthorizationQueryParametersError', msg) : new S3Error('AuthorizationHeaderMalformed', msg);
  }
  const unsigned = new Set<string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const n = req.rawHeaders[i].toLowerCase();
    if (n.startsWith('x-amz-') && !parsed.signedHeaders.includes(n)) unsigned.add(n);
  }
  if (unsigned.size > 0) {
    throw new S3Error('AccessDenied', 'There were headers present in the request which were not signed', {
      fields: { HeadersNotSigned: [...unsigned].join(', ') },
    });
  }

  // The payload hash the client signed.
  const sha = one(req.headers, 'x-amz-content-sha256')?.trim();
  let payloadHash: string;
  if (parsed.presigned) {
    payloadHash = sha ?? 'UNSIGNED-PAYLOAD';
  } else {
    if (sha === undefined) throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    payloadHash = sha;
  }
  if (!PAYLOAD_MODES.has(payloadHash) && !HEX64.test(payloadHash)) {
    throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.', {
      fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: payloadHash.slice(0, 80) },
    });
  }

  // The signature: the strictly re-encoded path is what S3 computes; the path exactly as sent is
  // tried too, for clients that leave characters such as '!' or '*' unencoded and sign them so.
  const scope = scopeOf(parsed.date, parsed.region, parsed.service);
  const key = signingKey(credential.secretAccessKey, parsed.date, parsed.region, parsed.service);
  const base = {
    method: (req.method ?? 'GET').toUpperCase(),
    query: canonicalQuery(rawQuery, parsed.presigned ? 'X-Amz-Signature' : undefined),
    signedHeaders: parsed.signedHeaders,
    headerValues: signedHeaderValues(req.rawHeaders, parsed.signedHeaders),
    payloadHash,
  };
  const strictUri = canonicalUri(rawPath);
  const uris = rawPath !== strictUri && rawPath !== '' ? [strictUri, rawPath] : [strictUri];
  let first: { creq: string; sts: string } | undefined;
  for (const uri of uris) {
    const creq = canonicalRequest({ ...base, uri });
    const sts = stringToSign(amzDateText, scope, creq);
    if (sameHex(signatureOf(key, sts), parsed.signature)) {
      return {
        credential,
        via: parsed.presigned ? 'sigv4-query' : 'sigv4-header',
        signing: { key, amzDate: amzDateText, scope, seedSignature: parsed.signature.toLowerCase() },
      };
    }
    first ??= { creq, sts };
  }
  throw signatureMismatch(parsed.accessKeyId, first!.sts, parsed.signature, first!.creq);
}

/**
 * The credential of an access key, with its session token checked (temporary credentials);
 * InvalidAccessKeyId, InvalidToken or ExpiredToken otherwise.
 */
export function knownCredential(source: CredentialSource, accessKeyId: string, token: string | undefined, now: Date): Credential {
  const credential = source.lookup(accessKeyId, token);
  if (!credential) {
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      fields: { AWSAccessKeyId: accessKeyId },
    });
  }
  if (credential.sessionToken !== undefined) {
    if (token === undefined || !sameText(token, credential.sessionToken)) {
      throw new S3Error('InvalidToken', 'The provided token is malformed or otherwise invalid.');
    }
    if (credential.expiresAt && credential.expiresAt.getTime() <= now.getTime()) {
      throw new S3Error('ExpiredToken', 'The provided token has expired.');
    }
  }
  return credential;
}

/** SignatureDoesNotMatch with the fields S3 puts in it, so a client author can compare. */
export function signatureMismatch(accessKeyId: string, sts: string, provided: string, creq?: string): S3Error {
  const fields: Record<string, string> = { AWSAccessKeyId: accessKeyId, StringToSign: sts, SignatureProvided: provided, StringToSignBytes: hexBytes(sts) };
  if (creq !== undefined) {
    fields.CanonicalRequest = creq;
    fields.CanonicalRequestBytes = hexBytes(creq);
  }
  return new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', { fields });
}

/**
 * Checks each chunk signature of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body as the decoder meets
 * it, chained from the seed signature; and, for the -TRAILER mode, the trailer signature.
 */
export function chunkVerifier(signing: SigningContext, accessKeyId: string): {
  onChunkSignature: (signature: string, chunk: Buffer[]) => void;
  verifyTrailers: (trailers: Record<string, string>) => void;
} {
  let previous = signing.seedSignature;
  return {
    onChunkSignature(signature, chunk) {
      const h = sha256Hex(Buffer.concat(chunk));
      const sts = chunkStringToSign(signing.amzDate, signing.scope, previous, h);
      if (!sameHex(signatureOf(signing.key, sts), signature)) throw signatureMismatch(accessKeyId, sts, signature);
      previous = signature.toLowerCase();
    },
    verifyTrailers(trailers) {
      const provided = trailers['x-amz-trailer-signature'];
      if (provided === undefined) throw new S3Error('SignatureDoesNotMatch', 'The trailer of a signed streaming body carries no x-amz-trailer-signature.');
      let text = '';
      for (const [name, value] of Object.entries(trailers)) if (name !== 'x-amz-trailer-signature') text += `${name}:${value}\n`;
      const sts = trailerStringToSign(signing.amzDate, signing.scope, previous, text);
      if (!sameHex(signatureOf(signing.key, sts), provided)) throw signatureMismatch(accessKeyId, sts, provided);
    },
  };
}

interface ParsedAuth {
  presigned: boolean;
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=a;b, Signature=hex` */
export function parseAuthorizationHeader(header: string, services: readonly string[] = ['s3']): ParsedAuth {
  const h = header.trim();
  if (h.startsWith('AWS ')) {
    if (!/^AWS [^:\s]+:\S+$/.test(h)) throw new S3Error('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', { fields: { ArgumentName: 'Authorization', ArgumentValue: printable(h).slice(0, 200) } });
    throw sigV2Refused();
  }
  if (!h.startsWith(ALGORITHM + ' ')) {
    throw new S3Error('InvalidArgument', 'Unsupported Authorization Type', { fields: { ArgumentName: 'Authorization', ArgumentValue: printable(h).slice(0, 200) } });
  }
  const fields = new Map<string, string>();
  for (const part of h.slice(ALGORITHM.length + 1).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) throw malformedHeader(`"${printable(p)}" is not of the form name=value`);
    fields.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformedHeader('it must name Credential, SignedHeaders and Signature');
  }
  const scope = parseCredential(credential, services, (why) => malformedHeader(why));
  if (!HEX64.test(signature)) throw malformedHeader('the Signature must be 64 hexadecimal digits');
  return { presigned: false, ...scope, signedHeaders: parseSignedHeaders(signedHeaders, malformedHeader), signature };
}

function parsePresigned(query: Map<string, string>, services: readonly string[]): ParsedAuth {
  const bad = (why: string) => new S3Error('AuthorizationQueryParametersError', `Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; ${why}.`);
  const algorithm = query.get('X-Amz-Algorithm');
  const credential = query.get('X-Amz-Credential');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (algorithm === undefined || credential === undefined || signedHeaders === undefined || signature === undefined || !query.has('X-Amz-Date') || !query.has('X-Amz-Expires')) {
    throw bad('some are missing');
  }
  if (algorithm !== ALGORITHM) throw new S3Error('AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}".`);
  const scope = parseCredential(credential, services, (why) => new S3Error('AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; ${why}.`));
  if (!HEX64.test(signature)) throw bad('X-Amz-Signature must be 64 hexadecimal digits');
  return { presigned: true, ...scope, signedHeaders: parseSignedHeaders(signedHeaders, bad), signature };
}

/** `AKID/20130524/us-east-1/s3/aws4_request`; the key itself may contain '/'. */
function parseCredential(credential: string, services: readonly string[], fail: (why: string) => S3Error) {
  const parts = credential.split('/');
  if (parts.length < 5) throw fail('the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"');
  const [date, region, service, terminal] = parts.slice(-4);
  const accessKeyId = parts.slice(0, -4).join('/');
  if (accessKeyId === '') throw fail('the Credential names no access key');
  if (!/^\d{8}$/.test(date)) throw fail(`the Credential date "${printable(date)}" is not YYYYMMDD`);
  if (region === '') throw fail('the Credential names no region');
  if (!services.includes(service)) throw fail(`incorrect service "${printable(service)}"; this endpoint expects "${services[0]}"`);
  if (terminal !== 'aws4_request') throw fail(`incorrect terminal "${printable(terminal)}"; this endpoint uses "aws4_request"`);
  return { accessKeyId, date, region, service };
}

function parseSignedHeaders(text: string, fail: (why: string) => S3Error): string[] {
  const names = text.split(';');
  if (names.some((n) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(n))) throw fail('SignedHeaders must be lower-case header names separated by ";"');
  return names;
}

function sigV2Refused(): S3Error {
  return new S3Error('InvalidRequest', `The authorization mechanism you have provided is not supported. Please use ${ALGORITHM} (Signature Version 2 is not accepted in SIGV4 mode).`);
}

function malformedHeader(why: string): S3Error {
  return new S3Error('AuthorizationHeaderMalformed', `The authorization header is malformed; ${why}.`);
}

/** Raw query pairs, decoded ('+' as a space); the first of a repeated name wins. */
function rawQueryParams(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (!out.has(name)) out.set(name, eq < 0 ? '' : decode(part.slice(eq + 1)));
  }
  return out;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function sameHex(computed: string, provided: string): boolean {
  const a = Buffer.from(computed, 'latin1');
  const b = Buffer.from(provided.toLowerCase(), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Constant-time comparison of two strings. */
export function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function hexBytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 ');
}

function printable(s: string): string {
  return s.slice(0, 64).replace(/[^\x20-\x7e]/g, '?');
}

// The signing context of a verified request, found again by whatever reads its body
// (bodyDecodersFor gets the request's headers object; every body reader passes req.headers).
const streamSigning = new WeakMap<object, { signing: SigningContext; accessKeyId: string }>();

export function attachStreamSigning(headers: IncomingHttpHeaders, signing: SigningContext, accessKeyId: string): void {
  streamSigning.set(headers, { signing, accessKeyId });
}

/** Chunk and trailer checks for the body of a verified request; undefined when it was not verified (SIMPLE mode). */
export function streamChecksFor(headers: IncomingHttpHeaders): ReturnType<typeof chunkVerifier> | undefined {
  const s = streamSigning.get(headers);
  return s ? chunkVerifier(s.signing, s.accessKeyId) : undefined;
}
