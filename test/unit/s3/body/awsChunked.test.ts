// The aws-chunked decoder: signed and unsigned framing split at every byte, trailers, limits,
// truncation and malformed framing, and that data passes through without copies.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { AwsChunkedDecoder, MAX_CHUNK_SIZE_LINE, MAX_TRAILER_SECTION } from '../../../../src/s3/body/awsChunked.js';
import { checksumBase64 } from '../../../../src/s3/body/checksums.js';
import { codeOf, errorOf, run, SIG1, SIG2, SIG3, signedBody, splits, unsignedBody } from './helpers.js';

const TEXT = ['The quick brown fox ', 'jumps over the lazy dog', ' and keeps running.'];
const JOINED = TEXT.join('');

test('a multi-chunk signed body decodes when split at every byte', async () => {
  const body = signedBody(TEXT, [SIG1, SIG2, SIG1, SIG3]);
  for (const pieces of splits(body)) {
    const signatures: Array<[string, string]> = [];
    const decoder = new AwsChunkedDecoder({
      expectedDecodedLength: JOINED.length,
      signed: true,
      onChunkSignature: (sig, data) => signatures.push([sig, Buffer.concat(data).toString()]),
    });
    const out = await run(pieces, [decoder]);
    assert.equal(out.toString(), JOINED, `pieces ${pieces.map((p) => p.length).join('+')}`);
    assert.deepEqual(signatures, [[SIG1, TEXT[0]], [SIG2, TEXT[1]], [SIG1, TEXT[2]], [SIG3, '']]);
    assert.deepEqual(decoder.trailers, {});
    assert.equal(decoder.decodedLength, JOINED.length);
  }
});

test('three-way splits around the chunk headers', async () => {
  // Every pair of cuts within the first chunk header and the start of its data.
  const body = signedBody(['0123456789abcdef', 'x'], [SIG1, SIG2, SIG3]);
  const headerEnd = body.indexOf('\r\n') + 2;
  for (let a = 0; a <= headerEnd + 3; a++) {
    for (let b = a; b <= headerEnd + 5; b++) {
      const out = await run([body.subarray(0, a), body.subarray(a, b), body.subarray(b)], [new AwsChunkedDecoder({ expectedDecodedLength: 17 })]);
      assert.equal(out.toString(), '0123456789abcdefx', `cuts ${a},${b}`);
    }
  }
});

test('AWS documentation example framing: a 64 KiB and a 1 KiB chunk', async () => {
  const data = Buffer.alloc(66560, 'a');
  const body = signedBody([data.subarray(0, 65536), data.subarray(65536)], [SIG1, SIG2, SIG3]);
  assert.ok(body.subarray(0, 6).equals(Buffer.from('10000;')));
  const out = await run([body.subarray(0, 1000), body.subarray(1000, 65600), body.subarray(65600)], [new AwsChunkedDecoder({ expectedDecodedLength: 66560 })]);
  assert.ok(out.equals(data));
  // Upper-case hex sizes are accepted too.
  const upper = Buffer.from(`A;chunk-signature=${SIG1}\r\n0123456789\r\n0;chunk-signature=${SIG3}\r\n\r\n`);
  assert.equal((await run([upper], [new AwsChunkedDecoder({ expectedDecodedLength: 10 })])).toString(), '0123456789');
});

test('an unsigned body with a checksum trailer decodes at every split and reports its trailers', async () => {
  const crc = checksumBase64('CRC32', JOINED);
  const body = unsignedBody(TEXT, [`x-amz-checksum-crc32:${crc}`]);
  for (const pieces of splits(body)) {
    const decoder = new AwsChunkedDecoder({ expectedDecodedLength: JOINED.length });
    const out = await run(pieces, [decoder]);
    assert.equal(out.toString(), JOINED);
    assert.deepEqual(decoder.trailers, { 'x-amz-checksum-crc32': crc });
  }
  // A signed trailer section: checksum plus x-amz-trailer-signature, names lower-cased, values trimmed.
  const signed = signedBody(['abc'], [SIG1, SIG3], [`X-Amz-Checksum-CRC32C: ${checksumBase64('CRC32C', 'abc')}`, `x-amz-trailer-signature:${SIG2}`]);
  const decoder = new AwsChunkedDecoder({ expectedDecodedLength: 3, signed: true });
  await run([signed], [decoder]);
  assert.deepEqual(decoder.trailers, { 'x-amz-checksum-crc32c': checksumBase64('CRC32C', 'abc'), 'x-amz-trailer-signature': SIG2 });
});

test("'trailers' is emitted after the last data and before 'end'", async () => {
  const body = unsignedBody(['abc'], ['x-amz-checksum-crc32:NSRBwg==']);
  const decoder = new AwsChunkedDecoder({ expectedDecodedLength: 3 });
  const events: string[] = [];
  decoder.on('data', () => events.push('data'));
  decoder.on('trailers', (t: Record<string, string>) => events.push(`trailers ${JSON.stringify(t)}`));
  decoder.on('end', () => events.push('end'));
  decoder.on('finish', () => events.push('finish'));
  const ended = new Promise((resolve) => decoder.once('end', resolve));
  const finished = new Promise((resolve) => decoder.once('finish', resolve));
  decoder.end(body);
  await Promise.all([ended, finished]);
  assert.deepEqual(events.slice(0, 2), ['data', 'trailers {"x-amz-checksum-crc32":"NSRBwg=="}']);
  assert.deepEqual(events.slice(2).sort(), ['end', 'finish']);
});

test('data passes through as views of the input, without copies', async () => {
  const payload = Buffer.alloc(100_000, 7);
  const framed = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]);
  const reads = [framed.subarray(0, 3), framed.subarray(3, 50_000), framed.subarray(50_000)];
  const decoder = new AwsChunkedDecoder({ expectedDecodedLength: payload.length });
  const seen: Buffer[] = [];
  decoder.on('data', (c: Buffer) => seen.push(c));
  await new Promise<void>((resolve, reject) => {
    Readable.from(reads).pipe(decoder).on('end', resolve).on('error', reject);
  });
  assert.equal(seen.reduce((n, c) => n + c.length, 0), payload.length);
  assert.ok(seen.every((c) => c.buffer === framed.buffer), 'data chunks share the input memory');
});

test('a stream that ends early is IncompleteBody, at every cut before the final chunk', async () => {
  const body = signedBody(TEXT, [SIG1, SIG2, SIG1, SIG3]);
  const finalLineEnd = body.length - 2; // "0;chunk-signature=...\r\n" then the closing "\r\n"
  for (let cut = 0; cut < finalLineEnd; cut++) {
    const decoder = new AwsChunkedDecoder();
    assert.equal(await codeOf(run([body.subarray(0, cut)], [decoder])), 'IncompleteBody', `cut at ${cut}`);
  }
  // Cut after the final chunk's line: all data arrived; only the closing empty line is missing.
  assert.equal((await run([body.subarray(0, finalLineEnd)], [new AwsChunkedDecoder()])).toString(), JOINED);
  // Cut inside a trailer line.
  const unsigned = unsignedBody(['abc'], ['x-amz-checksum-crc32:NSRBwg==']);
  assert.equal(await codeOf(run([unsigned.subarray(0, unsigned.length - 6)], [new AwsChunkedDecoder()])), 'IncompleteBody');
});

test('decoded length must equal x-amz-decoded-content-length', async () => {
  const body = signedBody(['hello', 'world']);
  assert.equal(await codeOf(run([body], [new AwsChunkedDecoder({ expectedDecodedLength: 11 })])), 'IncompleteBody');
  const long = await errorOf(run([body], [new AwsChunkedDecoder({ expectedDecodedLength: 9 })]));
  assert.equal(long.code, 'InvalidRequest');
  assert.match(long.message, /x-amz-decoded-content-length/);
  assert.equal((await run([body], [new AwsChunkedDecoder({ expectedDecodedLength: 10 })])).toString(), 'helloworld');
});

test('malformed framing is refused with a clear S3 error', async () => {
  const cases: Array<[string, string | Buffer, RegExp]> = [
    ['non-hex size', `zz;chunk-signature=${SIG1}\r\nhello\r\n`, /not a hexadecimal chunk size/],
    ['empty size', `;chunk-signature=${SIG1}\r\nhello\r\n`, /not a hexadecimal chunk size/],
    ['negative size', '-5\r\nhello\r\n0\r\n\r\n', /not a hexadecimal chunk size/],
    ['size too large', 'fffffffffffffffff\r\n', /not a hexadecimal chunk size/],
    ['size line over 4 KiB', Buffer.from('f'.repeat(MAX_CHUNK_SIZE_LINE + 10)), /longer than 4 KiB/],
    ['bare LF after size', '5\nhello\r\n0\r\n\r\n', /must end with CRLF/],
    ['short signature', '5;chunk-signature=abc\r\nhello\r\n0\r\n\r\n', /64 hexadecimal/],
    ['missing CRLF after data', `5;chunk-signature=${SIG1}\r\nhelloXX0;chunk-signature=${SIG3}\r\n\r\n`, /followed by CRLF/],
    ['only CR after data', '5\r\nhello\rX0\r\n\r\n', /followed by CRLF/],
    ['data after the final chunk', '5\r\nhello\r\n0\r\n\r\nmore', /data follows the final chunk/],
    ['bad trailer line', '5\r\nhello\r\n0\r\nno colon here\r\n\r\n', /name:value/],
  ];
  for (const [name, body, message] of cases) {
    const buf = Buffer.from(body);
    for (const pieces of [[buf], [...buf].map((b) => Buffer.from([b]))]) {
      const err = await errorOf(run(pieces, [new AwsChunkedDecoder()]));
      assert.equal(err.code, 'InvalidRequest', name);
      assert.match(err.message, message, name);
    }
  }
  // A size line over the limit is refused without waiting for its end.
  const decoder = new AwsChunkedDecoder();
  const err = await errorOf(run([Buffer.from('1'.repeat(3000)), Buffer.from('1'.repeat(3000))], [decoder]));
  assert.match(err.message, /longer than 4 KiB/);
});

test('a trailer section over 16 KiB is refused', async () => {
  const lines = Array.from({ length: 40 }, (_, i) => `x-amz-meta-${i}:${'v'.repeat(500)}`);
  assert.ok(lines.join('\r\n').length > MAX_TRAILER_SECTION);
  const body = unsignedBody(['abc'], lines);
  for (const pieces of [[body], [body.subarray(0, 9000), body.subarray(9000)]]) {
    const err = await errorOf(run(pieces, [new AwsChunkedDecoder()]));
    assert.equal(err.code, 'InvalidRequest');
    assert.match(err.message, /trailer section is larger than 16 KiB/);
  }
  // Just under the limit is fine.
  const ok = unsignedBody(['abc'], lines.slice(0, 30));
  const decoder = new AwsChunkedDecoder();
  await run([ok], [decoder]);
  assert.equal(Object.keys(decoder.trailers).length, 30);
});

test('signed mode needs a chunk-signature on every chunk; other extensions are ignored', async () => {
  const unsigned = unsignedBody(['abc'], []);
  const err = await errorOf(run([unsigned], [new AwsChunkedDecoder({ signed: true })]));
  assert.match(err.message, /no chunk-signature/);
  const extra = Buffer.from(`3;foo=bar;chunk-signature=${SIG1.toUpperCase()}\r\nabc\r\n0;chunk-signature=${SIG3}\r\n\r\n`);
  const sigs: string[] = [];
  const out = await run([extra], [new AwsChunkedDecoder({ signed: true, onChunkSignature: (s) => sigs.push(s) })]);
  assert.equal(out.toString(), 'abc');
  assert.deepEqual(sigs, [SIG1, SIG3]);
});

test('an error thrown by onChunkSignature fails the stream', async () => {
  const body = signedBody(['abc', 'def']);
  const decoder = new AwsChunkedDecoder({
    onChunkSignature: () => {
      throw new Error('bad signature');
    },
  });
  await assert.rejects(run([body], [decoder]), /bad signature/);
});

test('an empty object: just the final chunk', async () => {
  const decoder = new AwsChunkedDecoder({ expectedDecodedLength: 0 });
  assert.equal((await run([Buffer.from('0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n')], [decoder])).length, 0);
  assert.deepEqual(decoder.trailers, { 'x-amz-checksum-crc32': 'AAAAAA==' });
  assert.equal(await codeOf(run([], [new AwsChunkedDecoder()])), 'IncompleteBody');
});
