// BodyVerifier and bodyDecodersFor: MD5 / Content-MD5, lengths, x-amz-checksum-* in headers and
// trailers, x-amz-content-sha256, and the header rules that pick the decoding chain.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { test } from 'node:test';
import { AwsChunkedDecoder } from '../../../../src/s3/body/awsChunked.js';
import { BodyVerifier, bodyDecodersFor, Sha256Verifier, stripAwsChunked } from '../../../../src/s3/body/bodyVerifier.js';
import { CHECKSUM_ALGORITHMS, checksumBase64, checksumHeaderName } from '../../../../src/s3/body/checksums.js';
import { codeOf, errorOf, run, signedBody, splits, unsignedBody } from './helpers.js';

const md5b64 = (s: string | Buffer) => createHash('md5').update(s).digest('base64');
const md5hex = (s: string | Buffer) => createHash('md5').update(s).digest('hex');

/** Runs a body through the chain bodyDecodersFor builds for these headers. */
async function decode(pieces: Buffer[] | Buffer | string, headers: IncomingHttpHeaders) {
  const { streams, verifier } = bodyDecodersFor(headers);
  const list = typeof pieces === 'string' ? [Buffer.from(pieces)] : Buffer.isBuffer(pieces) ? [pieces] : pieces;
  const data = await run(list, [...streams, verifier]);
  return { data: data.toString(), verifier, streams };
}

test('the verifier passes the same buffers through and reports size and MD5', async () => {
  const input = [Buffer.from('hello '), Buffer.from('world')];
  const verifier = new BodyVerifier();
  const seen: Buffer[] = [];
  verifier.on('data', (c: Buffer) => seen.push(c));
  await run(input, [verifier]);
  assert.ok(seen.length === 2 && seen[0] === input[0] && seen[1] === input[1], 'no copies');
  assert.deepEqual(verifier.result, { size: 11, md5Hex: md5hex('hello world'), md5Base64: md5b64('hello world'), checksums: {} });
  assert.throws(() => new BodyVerifier().result, /not been verified/);
});

test('Content-MD5: right, wrong and malformed', async () => {
  const good = md5b64('abc');
  const ok = await decode('abc', { 'content-md5': good, 'content-length': '3' });
  assert.equal(ok.verifier.result.md5Base64, good);
  const bad = await errorOf(decode('abd', { 'content-md5': good, 'content-length': '3' }));
  assert.equal(bad.code, 'BadDigest');
  assert.equal(bad.fields.CalculatedDigest, md5b64('abd'));
  for (const malformed of ['not-base64!!', 'AAAA', '', md5b64('abc').slice(0, 22), Buffer.alloc(17).toString('base64'), createHash('md5').update('abc').digest('hex')]) {
    assert.throws(() => new BodyVerifier({ contentMd5: malformed }), { code: 'InvalidDigest' }, malformed);
    assert.equal(await codeOf(decode('abc', { 'content-md5': malformed })), 'InvalidDigest');
  }
});

test('expected length: short is IncompleteBody, long is refused', async () => {
  assert.equal(await codeOf(decode('ab', { 'content-length': '3' })), 'IncompleteBody');
  assert.equal(await codeOf(run([Buffer.from('abcd')], [new BodyVerifier({ expectedLength: 3 })])), 'InvalidRequest');
  assert.equal((await decode('abc', { 'content-length': '3' })).verifier.result.size, 3);
  assert.equal((await decode([], { 'content-length': '0' })).verifier.result.md5Hex, 'd41d8cd98f00b204e9800998ecf8427e');
});

test('x-amz-checksum-* headers in every algorithm: verified and reported', async () => {
  for (const alg of CHECKSUM_ALGORITHMS) {
    const value = checksumBase64(alg, 'some object data');
    const { verifier } = await decode([Buffer.from('some '), Buffer.from('object data')], { [checksumHeaderName(alg)]: value });
    assert.deepEqual(verifier.result.checksums, { [alg]: value });
    const err = await errorOf(decode('some object dat4', { [checksumHeaderName(alg)]: value }));
    assert.equal(err.code, 'BadDigest');
    assert.equal(err.message, `The ${alg} you specified did not match the calculated checksum.`);
  }
});

test('checksum headers: malformed values and more than one algorithm are InvalidRequest', async () => {
  const err = await errorOf(decode('abc', { 'x-amz-checksum-crc32': 'zzz' }));
  assert.equal(err.code, 'InvalidRequest');
  assert.equal(err.message, 'Value for x-amz-checksum-crc32 header is invalid.');
  assert.equal(await codeOf(decode('abc', { 'x-amz-checksum-crc32c': checksumBase64('SHA1', 'abc') })), 'InvalidRequest');
  const two = await errorOf(decode('abc', { 'x-amz-checksum-sha256': checksumBase64('SHA256', 'abc'), 'x-amz-checksum-crc32': checksumBase64('CRC32', 'abc') }));
  assert.equal(two.code, 'InvalidRequest');
  assert.match(two.message, /Expecting a single x-amz-checksum- header/);
  assert.throws(
    () => new BodyVerifier({ checksums: { CRC32: checksumBase64('CRC32', 'a'), CRC32C: checksumBase64('CRC32C', 'a') } }),
    { code: 'InvalidRequest', message: /Expecting a single x-amz-checksum- header/ },
  );
});

test('computeAlgorithm: x-amz-sdk-checksum-algorithm and x-amz-checksum-algorithm are computed without a value', async () => {
  for (const name of ['x-amz-sdk-checksum-algorithm', 'x-amz-checksum-algorithm']) {
    const { verifier } = await decode('abc', { [name]: 'crc64nvme' });
    assert.deepEqual(verifier.result.checksums, { CRC64NVME: checksumBase64('CRC64NVME', 'abc') });
  }
  assert.equal(await codeOf(decode('abc', { 'x-amz-sdk-checksum-algorithm': 'MD5' })), 'InvalidRequest');
  // A value in a header names the algorithm that counts.
  const { verifier } = await decode('abc', { 'x-amz-sdk-checksum-algorithm': 'CRC32', 'x-amz-checksum-sha1': checksumBase64('SHA1', 'abc') });
  assert.deepEqual(Object.keys(verifier.result.checksums), ['SHA1']);
});

const TEXT = 'trailing checksums are the default of current SDKs';

function trailerHeaders(alg: string): IncomingHttpHeaders {
  return {
    'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(TEXT.length),
    'x-amz-trailer': `x-amz-checksum-${alg.toLowerCase()}`,
    'x-amz-sdk-checksum-algorithm': alg,
  };
}

test('an unsigned body with a checksum trailer, split at every byte, is verified after the decoder ends', async () => {
  for (const alg of CHECKSUM_ALGORITHMS) {
    const value = checksumBase64(alg, TEXT);
    const body = unsignedBody([TEXT.slice(0, 10), TEXT.slice(10, 30), TEXT.slice(30)], [`x-amz-checksum-${alg.toLowerCase()}:${value}`]);
    const all = alg === 'CRC32C' ? [...splits(body)] : [[body]];
    for (const pieces of all) {
      const { data, verifier, streams } = await decode(pieces, trailerHeaders(alg));
      assert.equal(data, TEXT);
      assert.ok(streams[0] instanceof AwsChunkedDecoder);
      assert.deepEqual(verifier.result.checksums, { [alg]: value });
      assert.equal(verifier.result.md5Hex, md5hex(TEXT));
      assert.equal(verifier.result.size, TEXT.length);
    }
  }
});

test('a wrong checksum in the trailer is BadDigest; a missing or malformed one InvalidRequest', async () => {
  const wrong = unsignedBody([TEXT], [`x-amz-checksum-crc32:${checksumBase64('CRC32', 'something else')}`]);
  const err = await errorOf(decode(wrong, trailerHeaders('CRC32')));
  assert.equal(err.code, 'BadDigest');
  assert.equal(err.message, 'The CRC32 you specified did not match the calculated checksum.');
  const missing = unsignedBody([TEXT], []);
  const miss = await errorOf(decode(missing, trailerHeaders('CRC32')));
  assert.equal(miss.code, 'InvalidRequest');
  assert.match(miss.message, /x-amz-checksum-crc32 named in x-amz-trailer was not sent/);
  const otherName = unsignedBody([TEXT], [`x-amz-checksum-crc32c:${checksumBase64('CRC32C', TEXT)}`]);
  assert.equal(await codeOf(decode(otherName, trailerHeaders('CRC32'))), 'InvalidRequest');
  const malformed = unsignedBody([TEXT], ['x-amz-checksum-crc32:!!']);
  assert.equal(await codeOf(decode(malformed, trailerHeaders('CRC32'))), 'InvalidRequest');
  // Truncated inside the trailer line.
  const good = unsignedBody([TEXT], [`x-amz-checksum-crc32:${checksumBase64('CRC32', TEXT)}`]);
  assert.equal(await codeOf(decode(good.subarray(0, good.length - 5), trailerHeaders('CRC32'))), 'IncompleteBody');
  // A trailer with a checksum header as well, or a trailer that is not a checksum.
  assert.equal(await codeOf(decode(good, { ...trailerHeaders('CRC32'), 'x-amz-checksum-crc32': checksumBase64('CRC32', TEXT) })), 'InvalidRequest');
  assert.equal(await codeOf(decode(good, { ...trailerHeaders('CRC32'), 'x-amz-trailer': 'x-amz-meta-foo' })), 'InvalidRequest');
  assert.equal(await codeOf(decode(TEXT, { 'x-amz-trailer': 'x-amz-checksum-crc32' })), 'InvalidRequest');
});

test('signed streaming bodies: framing decoded, chunk signatures required, Content-MD5 over the decoded bytes', async () => {
  const chunks = ['hello, ', 'aws-chunked ', 'world'];
  const joined = chunks.join('');
  const body = signedBody(chunks);
  const headers = {
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': String(joined.length),
    'content-length': String(body.length),
    'content-md5': md5b64(joined),
  };
  for (const pieces of splits(body)) assert.equal((await decode(pieces, headers)).data, joined);
  assert.equal(await codeOf(decode(body, { ...headers, 'content-md5': md5b64('other') })), 'BadDigest');
  // Unsigned framing under a signed mode is refused.
  assert.equal(await codeOf(decode(unsignedBody(chunks, []), headers)), 'InvalidRequest');
  // Signed with a trailer.
  const crc = checksumBase64('CRC32C', joined);
  const withTrailer = signedBody(chunks, [], [`x-amz-checksum-crc32c:${crc}`, `x-amz-trailer-signature:${'0'.repeat(64)}`]);
  const { verifier } = await decode(withTrailer, {
    ...headers,
    'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    'x-amz-trailer': 'x-amz-checksum-crc32c',
  });
  assert.deepEqual(verifier.result.checksums, { CRC32C: crc });
});

test('header rules: STREAMING-* without Content-Encoding, missing decoded length, encodings besides aws-chunked', async () => {
  const body = signedBody(['hello']);
  // Some clients omit Content-Encoding: the STREAMING-* value alone means aws-chunked.
  const noEncoding = await decode(body, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '5' });
  assert.equal(noEncoding.data, 'hello');
  // aws-chunked among other encodings.
  const gz = await decode(unsignedBody(['hello'], []), { 'content-encoding': 'aws-chunked,gzip', 'x-amz-decoded-content-length': '5' });
  assert.equal(gz.data, 'hello');
  assert.equal(stripAwsChunked('aws-chunked,gzip'), 'gzip');
  assert.equal(stripAwsChunked('gzip, aws-chunked, br'), 'gzip,br');
  assert.equal(stripAwsChunked('aws-chunked'), undefined);
  assert.equal(stripAwsChunked(undefined), undefined);
  // Without aws-chunked a gzip body is left alone.
  assert.equal((await decode('raw', { 'content-encoding': 'gzip', 'content-length': '3' })).data, 'raw');
  assert.equal(bodyDecodersFor({ 'content-encoding': 'gzip' }).streams.length, 0);
  // The decoded length is the object size; its absence is MissingContentLength.
  for (const mode of ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER']) {
    assert.equal(await codeOf(() => bodyDecodersFor({ 'x-amz-content-sha256': mode, 'content-length': '100' })), 'MissingContentLength');
  }
  // aws-chunked said of a plain body (no streaming mode, no decoded length) is only a label.
  assert.equal(bodyDecodersFor({ 'content-encoding': 'aws-chunked', 'content-length': '3' }).streams.length, 0);
  assert.equal((await decode('raw', { 'content-encoding': 'gzip, aws-chunked', 'content-length': '3' })).data, 'raw');
  assert.equal(stripAwsChunked('deflate, gzip'), 'deflate, gzip', 'kept as sent without aws-chunked');
  assert.equal(await codeOf(() => bodyDecodersFor({ 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': 'ten' })), 'InvalidArgument');
  assert.equal(await codeOf(decode(body, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '6' })), 'IncompleteBody');
  assert.equal(await codeOf(decode(body, { 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '4' })), 'InvalidRequest');
});

test('x-amz-content-sha256: a digest is verified, UNSIGNED-PAYLOAD accepted, anything else InvalidArgument', async () => {
  const digest = createHash('sha256').update('abc').digest('hex');
  assert.equal((await decode('abc', { 'x-amz-content-sha256': digest })).data, 'abc');
  assert.equal((await decode('abc', { 'x-amz-content-sha256': digest.toUpperCase() })).data, 'abc');
  const err = await errorOf(decode('abd', { 'x-amz-content-sha256': digest }));
  assert.equal(err.code, 'XAmzContentSHA256Mismatch');
  assert.equal(err.fields.ClientComputedContentSHA256, digest);
  assert.equal((await decode('abc', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' })).data, 'abc');
  for (const bad of ['STREAMING-NONSENSE', 'unsigned-payload', digest.slice(1), '']) {
    assert.equal(await codeOf(() => bodyDecodersFor({ 'x-amz-content-sha256': bad })), 'InvalidArgument', bad);
  }
  // A plain digest over an aws-chunked body covers the bytes as sent.
  const framed = unsignedBody(['abc'], []);
  const wire = createHash('sha256').update(framed).digest('hex');
  const chain = bodyDecodersFor({ 'x-amz-content-sha256': wire, 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '3' });
  assert.ok(chain.streams[0] instanceof Sha256Verifier);
  assert.equal((await decode(framed, { 'x-amz-content-sha256': wire, 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '3' })).data, 'abc');
  assert.equal(await codeOf(decode(framed, { 'x-amz-content-sha256': digest, 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '3' })), 'XAmzContentSHA256Mismatch');
});
