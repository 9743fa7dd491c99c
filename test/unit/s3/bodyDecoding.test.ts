// aws-chunked decoding and body verification, including framing split at every byte.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { AwsChunkedDecoder } from '../../../src/s3/body/awsChunked.js';
import { BodyVerifier, bodyDecodersFor } from '../../../src/s3/body/bodyVerifier.js';
import { createChecksum } from '../../../src/s3/body/checksums.js';
import { S3Error } from '../../../src/s3/errors.js';

const SIG = 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';

function signedBody(chunks: string[]): Buffer {
  const parts = chunks.map((c) => `${Buffer.byteLength(c).toString(16)};chunk-signature=${SIG}\r\n${c}\r\n`);
  return Buffer.from(`${parts.join('')}0;chunk-signature=${SIG}\r\n\r\n`);
}

function crc32Base64(s: string): string {
  const c = createChecksum('CRC32');
  c.update(Buffer.from(s));
  return c.digest().toString('base64');
}

function unsignedTrailerBody(chunks: string[], trailerValue: string): Buffer {
  const parts = chunks.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`);
  return Buffer.from(`${parts.join('')}0\r\nx-amz-checksum-crc32:${trailerValue}\r\n\r\n`);
}

/** Runs bytes, cut into the given pieces, through the decoders for these headers. */
async function decode(pieces: Buffer[], headers: Record<string, string>): Promise<{ data: string; verifier: BodyVerifier }> {
  const { streams, verifier } = bodyDecodersFor(headers);
  const out: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, done) {
      out.push(c);
      done();
    },
  });
  await pipeline([Readable.from(pieces), ...streams, verifier, sink]);
  return { data: Buffer.concat(out).toString(), verifier };
}

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'none';
  } catch (e) {
    assert.ok(e instanceof S3Error, String(e));
    return e.code;
  }
};

test('signed aws-chunked body decodes when split at every byte', async () => {
  const chunks = ['hello, ', 'aws-chunked ', 'world'];
  const body = signedBody(chunks);
  const headers = { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(chunks.join('').length) };
  for (let cut = 1; cut < body.length; cut++) {
    const { data } = await decode([body.subarray(0, cut), body.subarray(cut)], headers);
    assert.equal(data, chunks.join(''), `cut at ${cut}`);
  }
  const bytes = [...body].map((b) => Buffer.from([b]));
  assert.equal((await decode(bytes, headers)).data, chunks.join(''));
});

test('unsigned body with a CRC32 trailer is verified and the checksum reported', async () => {
  const text = 'trailing checksums are the default of current SDKs';
  const body = unsignedTrailerBody([text.slice(0, 10), text.slice(10)], crc32Base64(text));
  const headers = {
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(text.length), 'x-amz-trailer': 'x-amz-checksum-crc32', 'x-amz-sdk-checksum-algorithm': 'CRC32',
  };
  for (let cut = 1; cut < body.length; cut += 3) {
    const { data, verifier } = await decode([body.subarray(0, cut), body.subarray(cut)], headers);
    assert.equal(data, text);
    assert.equal(verifier.result.checksums.CRC32, crc32Base64(text));
    assert.equal(verifier.result.md5Hex, createHash('md5').update(text).digest('hex'));
  }
  const wrong = unsignedTrailerBody([text], crc32Base64('something else'));
  assert.equal(await code(decode([wrong], headers)), 'BadDigest');
});

test('truncated or malformed framing is an S3 error', async () => {
  const headers = { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '5' };
  const good = signedBody(['hello']);
  assert.equal(await code(decode([good.subarray(0, good.length - 10)], headers)), 'IncompleteBody');
  assert.equal(await code(decode([Buffer.from(`zz;chunk-signature=${SIG}\r\nhello\r\n`)], headers)), 'InvalidRequest');
  assert.equal(await code(decode([Buffer.from(`5;chunk-signature=${SIG}\r\nhelloXX0;chunk-signature=${SIG}\r\n\r\n`)], headers)), 'InvalidRequest');
  assert.equal(await code(decode([Buffer.from('f'.repeat(5000))], headers)), 'InvalidRequest');
  assert.equal(await code(decode([signedBody(['hell'])], headers)), 'IncompleteBody');
  assert.equal(await code(decode([signedBody(['hello!'])], headers)), 'InvalidRequest');
  const streamingWithoutLength = { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' };
  assert.equal(await code(decode([good], streamingWithoutLength)), 'MissingContentLength');
});

test('Content-MD5: right, wrong and malformed', async () => {
  const md5 = createHash('md5').update('abc').digest('base64');
  assert.equal((await decode([Buffer.from('abc')], { 'content-md5': md5, 'content-length': '3' })).data, 'abc');
  assert.equal(await code(decode([Buffer.from('abd')], { 'content-md5': md5, 'content-length': '3' })), 'BadDigest');
  assert.equal(await code(decode([Buffer.from('abc')], { 'content-md5': 'not-base64!!', 'content-length': '3' })), 'InvalidDigest');
  assert.equal(await code(decode([Buffer.from('abc')], { 'content-md5': 'AAAA', 'content-length': '3' })), 'InvalidDigest');
});

test('checksum headers: verified, one at a time, well-formed', async () => {
  const sha = createChecksum('SHA256');
  sha.update(Buffer.from('abc'));
  const value = sha.digest().toString('base64');
  const ok = await decode([Buffer.from('abc')], { 'x-amz-checksum-sha256': value });
  assert.equal(ok.verifier.result.checksums.SHA256, value);
  assert.equal(await code(decode([Buffer.from('abd')], { 'x-amz-checksum-sha256': value })), 'BadDigest');
  assert.equal(await code(decode([Buffer.from('abc')], { 'x-amz-checksum-crc32': 'zzz' })), 'InvalidRequest');
  assert.equal(await code(decode([Buffer.from('abc')], { 'x-amz-checksum-sha256': value, 'x-amz-checksum-crc32': crc32Base64('abc') })), 'InvalidRequest');
});

test('x-amz-content-sha256: a digest is verified, an unknown mode refused', async () => {
  const digest = createHash('sha256').update('abc').digest('hex');
  assert.equal((await decode([Buffer.from('abc')], { 'x-amz-content-sha256': digest })).data, 'abc');
  assert.equal(await code(decode([Buffer.from('abd')], { 'x-amz-content-sha256': digest })), 'XAmzContentSHA256Mismatch');
  assert.equal(await code(decode([Buffer.from('abc')], { 'x-amz-content-sha256': 'STREAMING-NONSENSE' })), 'InvalidArgument');
  assert.equal((await decode([Buffer.from('abc')], { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })).data, 'abc');
});

test('a body shorter than its Content-Length is IncompleteBody', async () => {
  assert.equal(await code(decode([Buffer.from('ab')], { 'content-length': '3' })), 'IncompleteBody');
});

test('checksum test vectors ("123456789")', () => {
  const expect: Record<string, string> = { CRC32: 'cbf43926', CRC32C: 'e3069283', CRC64NVME: 'ae8b14860a799888', SHA1: 'f7c3bc1d808e04732adf679965ccc34ca7ae3441' };
  for (const [alg, hex] of Object.entries(expect)) {
    const c = createChecksum(alg as 'CRC32');
    c.update(Buffer.from('1234'));
    c.update(Buffer.from('56789'));
    assert.equal(c.digest().toString('hex'), hex, alg);
  }
});

test('the decoder passes data without copying it', async () => {
  const payload = Buffer.alloc(100_000, 1);
  const framed = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]);
  const decoder = new AwsChunkedDecoder({ expectedDecodedLength: payload.length });
  const seen: Buffer[] = [];
  decoder.on('data', (c: Buffer) => seen.push(c));
  decoder.end(framed);
  await new Promise((r) => decoder.once('end', r));
  assert.ok(seen.every((c) => c.buffer === framed.buffer), 'data chunks are views of the input');
});
