// Verifying a request body as it flows to storage: the MD5 (the ETag), Content-MD5, the
// x-amz-checksum-* of a header or a trailer, x-amz-content-sha256, and the length. Bytes pass
// through unchanged (the same Buffers); a mismatch fails the stream in its _flush, before the
// writer downstream finishes, so the object never becomes visible.
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';
import { streamChecksFor } from '../auth/sigv4.js';
import { AwsChunkedDecoder } from './awsChunked.js';
import {
  type Checksum,
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checkChecksumValue,
  checksumAlgorithmOfHeader,
  checksumHeaderName,
  createChecksum,
  parseChecksumAlgorithm,
} from './checksums.js';

export interface BodyVerifierOptions {
  /** The raw Content-MD5 header: base64 of 16 bytes, else InvalidDigest (thrown by the constructor). */
  contentMd5?: string;
  /** Bytes the body must have: fewer is IncompleteBody, more is InvalidRequest. */
  expectedLength?: number;
  /** Expected base64 values from x-amz-checksum-* headers (at most one algorithm). */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>;
  /** The algorithm whose value arrives as a trailer (x-amz-trailer); read via getTrailers(). */
  trailerChecksum?: ChecksumAlgorithm;
  /** The trailers of the body, lower-case names; called in _flush, after the decoder ended. */
  getTrailers?: () => Record<string, string>;
  /** Compute (and report) this checksum even without an expected value. */
  computeAlgorithm?: ChecksumAlgorithm;
  /** A hex SHA-256 of these bytes (x-amz-content-sha256 of a plain body) to verify. */
  contentSha256?: string;
}

export interface BodyResult {
  size: number;
  md5Hex: string;
  md5Base64: string;
  /** Base64 values of every checksum computed, by algorithm. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

const MULTIPLE_CHECKSUMS = 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.';

export class BodyVerifier extends Transform {
  private readonly md5 = createHash('md5');
  private readonly sha256?: Hash;
  private readonly sums: Checksum[] = [];
  private readonly expectedMd5?: Buffer;
  private readonly expected: Partial<Record<ChecksumAlgorithm, string>> = {};
  private size = 0;
  private done?: BodyResult;

  constructor(private readonly options: BodyVerifierOptions = {}) {
    super();
    if (options.contentMd5 !== undefined) this.expectedMd5 = parseContentMd5(options.contentMd5);
    const { expectedLength } = options;
    if (expectedLength !== undefined && (!Number.isSafeInteger(expectedLength) || expectedLength < 0)) {
      throw new TypeError(`bad expectedLength ${expectedLength}`);
    }
    const given = Object.entries(options.checksums ?? {}).filter(([, v]) => v !== undefined) as Array<[ChecksumAlgorithm, string]>;
    if (given.length + (options.trailerChecksum ? 1 : 0) > 1) throw new S3Error('InvalidRequest', MULTIPLE_CHECKSUMS);
    for (const [alg, value] of given) {
      checkChecksumValue(alg, value);
      this.expected[alg] = value;
    }
    if (options.trailerChecksum && !options.getTrailers) throw new TypeError('trailerChecksum needs getTrailers');
    if (options.contentSha256 !== undefined) {
      if (!/^[0-9a-fA-F]{64}$/.test(options.contentSha256)) {
        throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be a SHA-256 hex digest here.', {
          fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: options.contentSha256.slice(0, 80) },
        });
      }
      this.sha256 = createHash('sha256');
    }
    const algorithms = new Set<ChecksumAlgorithm>(given.map(([alg]) => alg));
    if (options.trailerChecksum) algorithms.add(options.trailerChecksum);
    if (options.computeAlgorithm) algorithms.add(options.computeAlgorithm);
    for (const alg of algorithms) this.sums.push(createChecksum(alg));
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.size;
  }

  /** What the body was: valid once the stream finished without error. */
  get result(): BodyResult {
    if (!this.done) throw new Error('the body has not been verified to its end');
    return this.done;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    const limit = this.options.expectedLength;
    if (limit !== undefined && this.size > limit) {
      return callback(new S3Error('InvalidRequest', `The body holds more than the ${limit} bytes the request announced.`));
    }
    this.md5.update(chunk);
    const sums = this.sums;
    for (let i = 0; i < sums.length; i++) sums[i].update(chunk);
    if (this.sha256) this.sha256.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.done = this.verify();
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  private verify(): BodyResult {
    const o = this.options;
    if (o.expectedLength !== undefined && this.size < o.expectedLength) {
      throw new S3Error('IncompleteBody', `You sent ${this.size} bytes of the ${o.expectedLength} the request announced.`);
    }
    const md5 = this.md5.digest();
    if (this.expectedMd5 && !md5.equals(this.expectedMd5)) {
      throw new S3Error('BadDigest', undefined, {
        fields: { ExpectedDigest: this.expectedMd5.toString('base64'), CalculatedDigest: md5.toString('base64') },
      });
    }
    if (this.sha256) {
      const computed = this.sha256.digest('hex');
      if (computed !== o.contentSha256!.toLowerCase()) {
        throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
          fields: { ClientComputedContentSHA256: o.contentSha256!, S3ComputedContentSHA256: computed },
        });
      }
    }
    const expected = { ...this.expected };
    if (o.trailerChecksum) {
      const name = checksumHeaderName(o.trailerChecksum);
      const value = o.getTrailers!()[name];
      if (value === undefined) throw new S3Error('InvalidRequest', `The trailer ${name} named in x-amz-trailer was not sent.`);
      checkChecksumValue(o.trailerChecksum, value);
      expected[o.trailerChecksum] = value;
    }
    const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
    for (const sum of this.sums) checksums[sum.algorithm] = sum.digest().toString('base64');
    for (const alg of CHECKSUM_ALGORITHMS) {
      const want = expected[alg];
      if (want !== undefined && checksums[alg] !== want) {
        throw new S3Error('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
      }
    }
    return { size: this.size, md5Hex: md5.toString('hex'), md5Base64: md5.toString('base64'), checksums };
  }
}

/** Content-MD5 must be (padded) base64 of exactly 16 bytes, else InvalidDigest. */
function parseContentMd5(value: string): Buffer {
  const v = value.trim();
  const raw = Buffer.from(v, 'base64');
  if (!/^[A-Za-z0-9+/]{22}==$/.test(v) || raw.length !== 16) throw new S3Error('InvalidDigest');
  return raw;
}

/** Checks the SHA-256 of the raw bytes (an aws-chunked body signed with a plain payload hash). */
export class Sha256Verifier extends Transform {
  private readonly hash = createHash('sha256');
  constructor(private readonly expectedHex: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    callback(null, chunk);
  }
  override _flush(callback: TransformCallback): void {
    const computed = this.hash.digest('hex');
    if (computed === this.expectedHex.toLowerCase()) return callback();
    callback(new S3Error('XAmzContentSHA256Mismatch', undefined, {
      fields: { ClientComputedContentSHA256: this.expectedHex, S3ComputedContentSHA256: computed },
    }));
  }
}

/** The x-amz-content-sha256 values that announce an aws-chunked body. */
export const STREAMING_PAYLOAD_MODES: ReadonlySet<string> = new Set([
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
]);

const HEX64 = /^[0-9a-fA-F]{64}$/;

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** A Content-Encoding without aws-chunked (a transfer detail, not part of the object); undefined when nothing is left. */
export function stripAwsChunked(contentEncoding: string | undefined): string | undefined {
  if (contentEncoding === undefined) return undefined;
  if (!/(^|,)\s*aws-chunked\s*(,|$)/i.test(contentEncoding)) return contentEncoding; // kept as sent
  const rest = contentEncoding.split(',').map((s) => s.trim()).filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked');
  return rest.length ? rest.join(',') : undefined;
}

/**
 * The transforms a request body goes through before storage, read from its headers: the
 * aws-chunked decoder when the body is chunked (preceded by a SHA-256 check if it was signed
 * with a plain payload hash), then the verifier, which must come last before the writer. Throws
 * S3Error for headers that are wrong before any byte is read.
 */
export function bodyDecodersFor(headers: IncomingHttpHeaders, opts: { checksumHeadersDescribeObject?: boolean } = {}): { streams: Transform[]; verifier: BodyVerifier; size?: number; declared: Record<string, string> } {
  const sha = one(headers, 'x-amz-content-sha256')?.trim();
  const streaming = sha !== undefined && STREAMING_PAYLOAD_MODES.has(sha);
  if (sha !== undefined && !streaming && sha !== 'UNSIGNED-PAYLOAD' && !HEX64.test(sha)) {
    throw new S3Error('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.', {
      fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: sha.slice(0, 80) },
    });
  }
  const encodings = (one(headers, 'content-encoding') ?? '').split(',').map((s) => s.trim().toLowerCase());
  // Some clients send a STREAMING-* body without saying aws-chunked in Content-Encoding; and
  // aws-chunked said of a plain body (no streaming payload mode, no decoded length) is a label
  // that S3 drops, not a framing to decode.
  const chunked = streaming || (encodings.includes('aws-chunked') && one(headers, 'x-amz-decoded-content-length') !== undefined);

  // Checksums in headers: at most one algorithm, each well-formed.
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  let headerAlgorithm: ChecksumAlgorithm | undefined;
  // CompleteMultipartUpload's x-amz-checksum-* headers are the object's, not its XML body's.
  for (const alg of opts.checksumHeadersDescribeObject ? [] : CHECKSUM_ALGORITHMS) {
    const v = one(headers, checksumHeaderName(alg));
    if (v === undefined) continue;
    if (headerAlgorithm) throw new S3Error('InvalidRequest', MULTIPLE_CHECKSUMS);
    checkChecksumValue(alg, v.trim());
    checksums[alg] = v.trim();
    headerAlgorithm = alg;
  }

  // A checksum that arrives as a trailer.
  let trailerChecksum: ChecksumAlgorithm | undefined;
  const trailerNames = (one(headers, 'x-amz-trailer') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of trailerNames) {
    if (!chunked) throw new S3Error('InvalidRequest', 'x-amz-trailer is only valid with an aws-chunked body.');
    const alg = checksumAlgorithmOfHeader(name);
    if (!alg) throw new S3Error('InvalidRequest', `The value specified in the x-amz-trailer header is not supported: ${name.slice(0, 80)}`);
    if (headerAlgorithm || trailerChecksum) throw new S3Error('InvalidRequest', MULTIPLE_CHECKSUMS);
    trailerChecksum = alg;
  }

  // The algorithm the SDK says it used: computed and reported even when no value is given. A
  // value given in a header or trailer names the algorithm that counts.
  const algorithmHeader = one(headers, 'x-amz-sdk-checksum-algorithm') ?? one(headers, 'x-amz-checksum-algorithm');
  const named = algorithmHeader !== undefined && algorithmHeader.trim() !== '' ? parseChecksumAlgorithm(algorithmHeader) : undefined;
  const computeAlgorithm = headerAlgorithm || trailerChecksum ? undefined : named;

  const streams: Transform[] = [];
  let decoder: AwsChunkedDecoder | undefined;
  let expectedLength: number | undefined;
  if (chunked) {
    const decodedLength = one(headers, 'x-amz-decoded-content-length')?.trim();
    if (decodedLength === undefined || decodedLength === '') {
      throw new S3Error('MissingContentLength', 'An aws-chunked body needs the x-amz-decoded-content-length header.');
    }
    if (!/^\d{1,16}$/.test(decodedLength) || !Number.isSafeInteger(Number(decodedLength))) {
      throw new S3Error('InvalidArgument', 'x-amz-decoded-content-length must be a non-negative integer.', {
        fields: { ArgumentName: 'x-amz-decoded-content-length', ArgumentValue: decodedLength.slice(0, 80) },
      });
    }
    expectedLength = Number(decodedLength);
    // A plain payload hash with an aws-chunked body covers the bytes as sent, framing included.
    if (sha !== undefined && HEX64.test(sha)) streams.push(new Sha256Verifier(sha));
    const signed = streaming && sha.startsWith('STREAMING-AWS4-');
    // A verified request (SIGV4 mode) has each chunk signature checked, chained from its seed.
    const checks = signed ? streamChecksFor(headers) : undefined;
    decoder = new AwsChunkedDecoder({ expectedDecodedLength: expectedLength, signed, onChunkSignature: checks?.onChunkSignature });
    if (checks && sha?.endsWith('-TRAILER')) decoder.on('trailers', checks.verifyTrailers);
    streams.push(decoder);
  } else {
    const contentLength = one(headers, 'content-length')?.trim();
    if (contentLength !== undefined && /^\d{1,16}$/.test(contentLength)) expectedLength = Number(contentLength);
  }
  const d = decoder;
  const verifier = new BodyVerifier({
    contentMd5: one(headers, 'content-md5'),
    expectedLength,
    checksums,
    trailerChecksum,
    getTrailers: d ? () => d.trailers : undefined,
    computeAlgorithm,
    contentSha256: !chunked && sha !== undefined && HEX64.test(sha) ? sha : undefined,
  });
  // The decoded size and the checksums given in headers, known up front (storage that takes them at
  // request start uses them).
  return { streams, verifier, size: expectedLength, declared: { ...checksums } };
}
