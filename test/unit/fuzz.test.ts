// Property-based tests (fast-check) over the parsers that read untrusted input: thousands of
// generated inputs each, and every one ends in a correct result or an S3 error, never a crash
// or a hang. Keys never resolve outside their mount.
import assert from 'node:assert/strict';
import { resolve, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import { identifySimple } from '../../src/s3/auth/simple.js';
import { AwsChunkedDecoder } from '../../src/s3/body/awsChunked.js';
import { parseEndpoint } from '../../src/s3/endpoint.js';
import { S3Error } from '../../src/s3/errors.js';
import { parseRange } from '../../src/s3/respond.js';
import { parseXml } from '../../src/s3/xml.js';
import { StorageError } from '../../src/ufs/errors.js';
import { keyToPath } from '../../src/ufs/localKeys.js';

/** Pieces hostile paths are made of: dots, slashes, escapes, unicode look-alikes of them. */
const pathPiece = fc.constantFrom('.', '..', '/', '//', '\\', '%2e', '%2E%2E', '%2f', '%2F', '%00', '\u2024', '\uFF0E', '\u2025', '\u3002', 'a', 'b c', 'é', '%', '+', '?', '&', '=', '#');
const hostilePath = fc.array(fc.oneof(pathPiece, fc.string({ maxLength: 4 })), { maxLength: 12 }).map((parts) => parts.join(''));

const onlyS3Errors = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof S3Error)) throw e;
  }
};

test('parseEndpoint: any request target is an endpoint or an S3 error', () => {
  fc.assert(
    fc.property(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'), fc.oneof(hostilePath, fc.string({ unit: 'binary', maxLength: 60 })), (method, target) => {
      onlyS3Errors(() => parseEndpoint(method, `/${target}`));
    }),
    { numRuns: 3000 },
  );
});

test('keys never leave their mount, whatever they are made of', () => {
  const root = resolve('/srv/mount');
  fc.assert(
    fc.property(fc.oneof(hostilePath, fc.string({ unit: 'binary', maxLength: 40 })), (raw) => {
      // The key as a client sends it, decoded as the endpoint parser decodes it.
      let key: string;
      try {
        key = parseEndpoint('GET', `/bucket/${raw}`).key;
      } catch {
        return;
      }
      if (key === '') return;
      try {
        const { rel } = keyToPath(key);
        const abs = resolve(root, rel);
        assert.ok(abs.startsWith(root + sep), `${JSON.stringify(key)} resolved to ${abs}`);
      } catch (e) {
        if (!(e instanceof StorageError)) throw e;
      }
    }),
    { numRuns: 5000 },
  );
});

test('the SIMPLE authorization parser: an identity or AuthorizationHeaderMalformed', () => {
  const piece = fc.constantFrom('AWS4-HMAC-SHA256 ', 'AWS ', 'Credential=', 'SignedHeaders=', 'Signature=', '/', ',', ' ', ':', '=', 'AKID', '20261125', 'us-east-1', 's3', 'aws4_request');
  fc.assert(
    fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 5 })), { maxLength: 14 }), fc.dictionary(fc.constantFrom('X-Amz-Credential', 'AWSAccessKeyId', 'other'), fc.string({ maxLength: 30 })), (parts, query) => {
      try {
        const id = identifySimple(parts.join(''), query);
        assert.equal(typeof id.user, 'string');
      } catch (e) {
        if (!(e instanceof S3Error)) throw e;
      }
    }),
    { numRuns: 3000 },
  );
});

test('Range headers: whole object, a range inside the object, or InvalidRange', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 20 }), fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => `bytes=${a}-${b}`), fc.nat().map((n) => `bytes=-${n}`)), fc.nat({ max: 1 << 20 }), (header, size) => {
      try {
        const r = parseRange(header, size);
        if (r) assert.ok(r.start >= 0 && r.start <= r.end && r.end < size, `${header} on ${size}: ${JSON.stringify(r)}`);
      } catch (e) {
        assert.ok(e instanceof S3Error && e.code === 'InvalidRange');
      }
    }),
    { numRuns: 3000 },
  );
});

test('XML request bodies: a document or MalformedXML', () => {
  const piece = fc.constantFrom('<Delete>', '</Delete>', '<Object>', '</Object>', '<Key>', '</Key>', '<?xml version="1.0"?>', '<!DOCTYPE x [<!ENTITY a "aaaa">]>', '&a;', '&amp;', '&#0;', '<![CDATA[', ']]>', '<', '>', '"', "'", '/');
  fc.assert(
    fc.property(fc.array(fc.oneof(piece, fc.string({ maxLength: 6 })), { maxLength: 20 }), (parts) => {
      onlyS3Errors(() => parseXml(parts.join('')));
    }),
    { numRuns: 3000 },
  );
});

test('aws-chunked decoding of mangled bodies ends, with the data or an S3 error', async () => {
  const valid = (chunks: Buffer[]) =>
    Buffer.concat([...chunks.map((c) => Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')])), Buffer.from('0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n')]);
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      fc.array(fc.nat({ max: 200 }), { maxLength: 4 }),
      async (chunks, mutations, cuts) => {
        const data = chunks.map((c) => Buffer.from(c));
        const body = valid(data);
        for (const [at, byte] of mutations) if (body.length) body[at % body.length] = byte;
        const points = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let last = 0;
        for (const p of points) {
          pieces.push(body.subarray(last, p));
          last = p;
        }
        pieces.push(body.subarray(last));
        const expected = Buffer.concat(data);
        const out: Buffer[] = [];
        const sink = new Writable({
          write(c: Buffer, _e, done) {
            out.push(c);
            done();
          },
        });
        const run = pipeline([Readable.from(pieces.filter((p) => p.length)), new AwsChunkedDecoder({ expectedDecodedLength: expected.length }), sink]);
        const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('the decoder hung')), 2000).unref());
        try {
          await Promise.race([run, timeout]);
          if (mutations.length === 0) assert.ok(Buffer.concat(out).equals(expected));
          else assert.equal(Buffer.concat(out).length, expected.length, 'a body accepted has exactly the announced length');
        } catch (e) {
          if (!(e instanceof S3Error)) throw e;
        }
      },
    ),
    { numRuns: 1000 },
  );
});

test('XML entity tricks: no expansion bomb, no external entities', () => {
  const level = (n: number) => `<!ENTITY l${n} "${`&l${n - 1};`.repeat(10)}">`;
  const bomb = `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY l0 "lol">${[1, 2, 3, 4, 5, 6, 7, 8, 9].map(level).join('')}]><Delete><Object><Key>&l9;</Key></Object></Delete>`;
  const started = Date.now();
  let size = 0;
  try {
    size = JSON.stringify(parseXml(bomb)).length;
  } catch (e) {
    assert.ok(e instanceof S3Error);
  }
  assert.ok(size < 10_000 && Date.now() - started < 1000, 'entities are not expanded a billion times');
  const external = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><Delete><Object><Key>&x;</Key></Object></Delete>';
  let text = '';
  try {
    text = JSON.stringify(parseXml(external));
  } catch (e) {
    assert.ok(e instanceof S3Error);
  }
  assert.ok(!text.includes('root:'), 'no file is read through an external entity');
});
