// Verifying a request body as it flows to storage: the MD5 (the ETag), Content-MD5, the
// x-amz-checksum-* of a header or a trailer, x-amz-content-sha256, and the length. A mismatch
// fails the stream in its flush, before the object becomes visible, so nothing is written.
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';
import { AwsChunkedDecoder } from './awsChunked.js';
import {
  type Checksum, CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, checkChecksumValue, checksumHeaderName, createChecksum, parseChecksumAlgorithm,
} from './checksums.js';

export interface BodyVerifierOptions {
  /** The raw Content-MD5 header. */
  contentMd5?: string;
  /** Bytes the body must have. */
  expectedLength?: number;
  /** Expected values from x-amz-checksum-* headers (base64). */
  checksums?: Partial<Record<ChecksumAlgorithm, string>>;
  /** The algorithm whose value arrives as a trailer (x-amz-trailer). */
  trailerChecksum?: ChecksumAlgorithm;
  getTrailers?: () => Record<string, string>;
  /** Compute (and report) this checksum even without an expected value. */
  computeAlgorithm?: ChecksumAlgorithm;
  /** A hex SHA-256 of the payload (x-amz-content-sha256) to verify. */
  contentSha256?: string;
}

export interface BodyResult {
  size: number;
  md5Hex: string;
  md5Base64: string;
  /** Base64 values of every checksum computed, by algorithm. */
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

export class BodyVerifier extends Transform {
  private readonly md5 = createHash('md5');
  private readonly sha256?: Hash;
  private readonly sums = new Map<ChecksumAlgorithm, Checksum>();
  private size = 0;
  private readonly expectedMd5?: string;
  private done?: BodyResult;

  constructor(private readonly options: BodyVerifierOptions = {}) {
    super();
    if (options.contentMd5 !== undefined) {
      const raw = Buffer.from(options.contentMd5, 'base64');
      if (raw.length !== 16 || raw.toString('base64') !== options.contentMd5.trim()) {
        throw new S3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.');
      }
      this.expectedMd5 = raw.toString('hex');
    }
    const algorithms = new Set<ChecksumAlgorithm>(Object.keys(options.checksums ?? {}) as ChecksumAlgorithm[]);
    if (options.trailerChecksum) algorithms.add(options.trailerChecksum);
    if (options.computeAlgorithm) algorithms.add(options.computeAlgorithm);
    for (const alg of algorithms) this.sums.set(alg, createChecksum(alg));
    if (options.contentSha256) this.sha256 = createHash('sha256');
  }

  /** What the body was: valid once the stream finished without error. */
  get result(): BodyResult {
    if (!this.done) throw new Error('the body has not been read to its end');
    return this.done;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.md5.update(chunk);
    for (const sum of this.sums.values()) sum.update(chunk);
    this.sha256?.update(chunk);
    this.size += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.verify();
      callback();
    } catch (e) {
      callback(e as Error);
    }
  }

  private verify(): void {
    const o = this.options;
    if (o.expectedLength !== undefined && this.size < o.expectedLength) {
      throw new S3Error('IncompleteBody', `You sent ${this.size} bytes of the ${o.expectedLength} the request announced.`);
    }
    const md5 = this.md5.digest();
    const md5Hex = md5.toString('hex');
    if (this.expectedMd5 !== undefined && this.expectedMd5 !== md5Hex) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
        fields: { ExpectedDigest: this.expectedMd5, CalculatedDigest: md5.toString('base64') },
      });
    }
    if (this.sha256 && this.sha256.digest('hex') !== o.contentSha256) {
      throw new S3Error('XAmzContentSHA256Mismatch', undefined, { fields: { ClientComputedContentSHA256: o.contentSha256 ?? '' } });
    }
    const computed: Partial<Record<ChecksumAlgorithm, string>> = {};
    for (const [alg, sum] of this.sums) computed[alg] = sum.digest().toString('base64');
    const expected: Partial<Record<ChecksumAlgorithm, string>> = { ...o.checksums };
    if (o.trailerChecksum) {
      const value = o.getTrailers?.()[checksumHeaderName(o.trailerChecksum)];
      if (value === undefined) throw new S3Error('InvalidRequest', `The trailer ${checksumHeaderName(o.trailerChecksum)} named in x-amz-trailer was not sent.`);
      checkChecksumValue(o.trailerChecksum, value);
      expected[o.trailerChecksum] = value;
    }
    for (const [alg, value] of Object.entries(expected) as Array<[ChecksumAlgorithm, string]>) {
      if (computed[alg] !== value) {
        throw new S3Error('XAmzContentChecksumMismatch', `The ${alg} you specified did not match the calculated checksum.`);
      }
    }
    this.done = { size: this.size, md5Hex, md5Base64: md5.toString('base64'), checksums: computed };
  }
}

const STREAMING_MODES = new Set([
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD',
  'STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER',
]);

function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * The transforms a request body goes through before storage, read from its headers: the
 * aws-chunked decoder when the body is chunked, then the verifier.
 */
export function bodyDecodersFor(headers: IncomingHttpHeaders): { streams: Transform[]; verifier: BodyVerifier } {
  const sha = one(headers, 'x-amz-content-sha256');
  const encoding = (one(headers, 'content-encoding') ?? '').split(',').map((s) => s.trim().toLowerCase());
  const streaming = sha !== undefined && STREAMING_MODES.has(sha);
  if (sha !== undefined && !streaming && sha !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-fA-F]{64}$/.test(sha)) {
    throw new S3Error('InvalidArgument', `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-..., or a SHA-256 hex digest; got "${sha.slice(0, 80)}".`, {
      fields: { ArgumentName: 'x-amz-content-sha256', ArgumentValue: sha.slice(0, 80) },
    });
  }
  const chunked = streaming || encoding.includes('aws-chunked');

  // Checksums given in headers, at most one algorithm.
  const checksums: Partial<Record<ChecksumAlgorithm, string>> = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = one(headers, checksumHeaderName(alg));
    if (v === undefined) continue;
    checkChecksumValue(alg, v.trim());
    checksums[alg] = v.trim();
  }
  if (Object.keys(checksums).length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');

  let trailerChecksum: ChecksumAlgorithm | undefined;
  const trailer = one(headers, 'x-amz-trailer');
  if (trailer !== undefined && trailer.trim() !== '') {
    if (!chunked) throw new S3Error('InvalidRequest', 'x-amz-trailer needs an aws-chunked body.');
    const name = trailer.trim().toLowerCase();
    const alg = CHECKSUM_ALGORITHMS.find((a) => checksumHeaderName(a) === name);
    if (!alg) throw new S3Error('InvalidRequest', `The trailer "${trailer}" is not an x-amz-checksum-* header.`);
    if (Object.keys(checksums).length > 0) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
    trailerChecksum = alg;
  }
  const algorithmHeader = one(headers, 'x-amz-sdk-checksum-algorithm') ?? one(headers, 'x-amz-checksum-algorithm');
  const computeAlgorithm = algorithmHeader ? parseChecksumAlgorithm(algorithmHeader) : undefined;

  const contentLength = one(headers, 'content-length');
  const decodedLength = one(headers, 'x-amz-decoded-content-length');
  const streams: Transform[] = [];
  let decoder: AwsChunkedDecoder | undefined;
  let expectedLength: number | undefined;
  if (chunked) {
    if (decodedLength === undefined || !/^\d+$/.test(decodedLength)) {
      throw new S3Error('MissingContentLength', 'An aws-chunked body needs x-amz-decoded-content-length.');
    }
    decoder = new AwsChunkedDecoder({ expectedDecodedLength: Number(decodedLength) });
    streams.push(decoder);
    expectedLength = Number(decodedLength);
  } else if (contentLength !== undefined && /^\d+$/.test(contentLength)) {
    expectedLength = Number(contentLength);
  }
  const verifier = new BodyVerifier({
    contentMd5: one(headers, 'content-md5'),
    expectedLength,
    checksums,
    trailerChecksum,
    getTrailers: decoder ? () => decoder.trailers : undefined,
    computeAlgorithm,
    contentSha256: !streaming && sha && /^[0-9a-fA-F]{64}$/.test(sha) ? sha.toLowerCase() : undefined,
  });
  return { streams, verifier };
}
