// SigV4 canonicalization and verification against AWS's published vectors: the Signature V4
// test suite (generic service, as the AWS SDK's own suite carries it) and the S3 examples of the
// S3 API reference (GET object, PUT object, listing, lifecycle, presigned URL, chunked upload).
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  scopeOf,
  sha256Hex,
  signatureOf,
  signedHeaderValues,
  signingKey,
  stringToSign,
  uriEncode,
} from '../../../../src/s3/auth/canonical.js';
import type { CredentialSource } from '../../../../src/s3/auth/credentials.js';
import { makeCredential } from '../../../../src/s3/auth/credentialsFile.js';
import { presignUrl, signHeaders } from '../../../../src/s3/auth/signer.js';
import { attachStreamSigning, parseAuthorizationHeader, type SignedRequest, verifySigV4 } from '../../../../src/s3/auth/sigv4.js';
import { bodyDecodersFor } from '../../../../src/s3/body/bodyVerifier.js';
import { S3Error } from '../../../../src/s3/errors.js';

const SUITE_SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const S3_AKID = 'AKIAIOSFODNN7EXAMPLE';
const S3_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

const source = (entries: Record<string, string>): CredentialSource => ({
  lookup: (id) => (entries[id] !== undefined ? makeCredential(id, entries[id], `user-${id}`) : undefined),
});

/** A request as Node's parser gives it, from raw header pairs. */
function request(method: string, url: string, raw: Array<[string, string]>): SignedRequest {
  const headers: Record<string, string> = {};
  for (const [n, v] of raw) headers[n.toLowerCase()] = headers[n.toLowerCase()] !== undefined ? `${headers[n.toLowerCase()]}, ${v}` : v;
  return { method, url, headers, rawHeaders: raw.flat() };
}

function s3Error(fn: () => unknown): S3Error {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof S3Error, `expected an S3Error, got ${e}`);
    return e;
  }
  assert.fail('expected an S3Error');
}

// ---- the SigV4 test suite (service "service", 2015-08-30T12:36:00Z) ----------------------

interface Vector {
  name: string;
  method: string;
  path: string;
  query: string;
  headers: Array<[string, string]>;
  body?: string;
  signature: string;
}
const VECTORS: Vector[] = [
  { name: 'get-vanilla', method: 'GET', path: '/', query: '', headers: [], signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31' },
  { name: 'get-vanilla-query-order-key-case', method: 'GET', path: '/', query: 'Param2=value2&Param1=value1', headers: [], signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500' },
  { name: 'get-vanilla-query-unreserved', method: 'GET', path: '/', query: '-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', headers: [], signature: '9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197' },
  { name: 'get-vanilla-utf8-query', method: 'GET', path: '/', query: '%E1%88%B4=bar', headers: [], signature: '2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04' },
  { name: 'get-unreserved', method: 'GET', path: '/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', query: '', headers: [], signature: '07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f' },
  { name: 'get-utf8', method: 'GET', path: '/%E1%88%B4', query: '', headers: [], signature: '8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85' },
  { name: 'get-header-key-duplicate', method: 'GET', path: '/', query: '', headers: [['My-Header1', 'value2'], ['My-Header1', 'value2'], ['My-Header1', 'value1']], signature: 'c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea' },
  { name: 'get-header-value-order', method: 'GET', path: '/', query: '', headers: [['My-Header1', 'value4'], ['My-Header1', 'value1'], ['My-Header1', 'value3'], ['My-Header1', 'value2']], signature: '08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01' },
  { name: 'get-header-value-trim', method: 'GET', path: '/', query: '', headers: [['My-Header1', ' value1'], ['My-Header2', ' "a   b   c"']], signature: 'acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736' },
  { name: 'post-vanilla-query', method: 'POST', path: '/', query: 'Param1=value1', headers: [], signature: '28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11' },
  { name: 'post-vanilla-query-nonunreserved', method: 'POST', path: '/', query: '%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D', headers: [], signature: '66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e' },
  { name: 'post-header-value-case', method: 'POST', path: '/', query: '', headers: [['My-Header1', 'VALUE1']], signature: 'cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d' },
  { name: 'post-x-www-form-urlencoded', method: 'POST', path: '/', query: '', headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: 'Param1=value1', signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a' },
  {
    name: 'post-sts-header-before', method: 'POST', path: '/', query: '',
    headers: [['X-Amz-Security-Token', 'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==']],
    signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
  },
];

for (const v of VECTORS) {
  test(`SigV4 test suite: ${v.name}`, () => {
    const raw: string[] = ['Host', 'example.amazonaws.com', 'X-Amz-Date', '20150830T123600Z', ...v.headers.flat()];
    const names = [...new Set(raw.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase()))].sort();
    const creq = canonicalRequest({
      method: v.method,
      uri: canonicalUri(v.path),
      query: canonicalQuery(v.query),
      signedHeaders: names,
      headerValues: signedHeaderValues(raw, names),
      payloadHash: sha256Hex(v.body ?? ''),
    });
    const scope = scopeOf('20150830', 'us-east-1', 'service');
    const sig = signatureOf(signingKey(SUITE_SECRET, '20150830', 'us-east-1', 'service'), stringToSign('20150830T123600Z', scope, creq));
    assert.equal(sig, v.signature);
  });
}

// ---- S3 examples (S3 API reference, "Signature Calculations for the Authorization Header") ----

const MAY24 = new Date('2013-05-24T00:00:00Z');
const examples = source({ [S3_AKID]: S3_SECRET });

test('S3 example: GET object with a Range, verified', () => {
  const req = request('GET', '/test.txt', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['Range', 'bytes=0-9'],
    ['x-amz-content-sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['x-amz-date', '20130524T000000Z'],
    ['Authorization', `AWS4-HMAC-SHA256 Credential=${S3_AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`],
  ]);
  const v = verifySigV4(req, examples, { now: MAY24 });
  assert.equal(v.credential.user, `user-${S3_AKID}`);
  assert.equal(v.via, 'sigv4-header');
});

test('S3 example: PUT object whose key needs encoding ($), with a Date header', () => {
  const req = request('PUT', '/test%24file.text', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['Date', 'Fri, 24 May 2013 00:00:00 GMT'],
    ['x-amz-date', '20130524T000000Z'],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
    ['x-amz-content-sha256', '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072'],
    ['Authorization', `AWS4-HMAC-SHA256 Credential=${S3_AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd`],
  ]);
  assert.equal(verifySigV4(req, examples, { now: MAY24 }).credential.accessKeyId, S3_AKID);
  // The same signature on the path sent unencoded ($ is sent as is by some clients).
  assert.equal(verifySigV4({ ...req, url: '/test$file.text' }, examples, { now: MAY24 }).credential.accessKeyId, S3_AKID);
});

test('S3 example: GET bucket lifecycle and a listing with a sorted query', () => {
  const lifecycle = request('GET', '/?lifecycle', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['x-amz-date', '20130524T000000Z'],
    ['x-amz-content-sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['Authorization', `AWS4-HMAC-SHA256 Credential=${S3_AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543`],
  ]);
  verifySigV4(lifecycle, examples, { now: MAY24 });
  const list = request('GET', '/?max-keys=2&prefix=J', [
    ['Host', 'examplebucket.s3.amazonaws.com'],
    ['x-amz-date', '20130524T000000Z'],
    ['x-amz-content-sha256', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['Authorization', `AWS4-HMAC-SHA256 Credential=${S3_AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`],
  ]);
  verifySigV4(list, examples, { now: MAY24 });
});

const PRESIGNED = `/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${S3_AKID}%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404`;

test('S3 example: presigned GET, valid for a day, then expired', () => {
  const req = request('GET', PRESIGNED, [['Host', 'examplebucket.s3.amazonaws.com']]);
  assert.equal(verifySigV4(req, examples, { now: new Date('2013-05-24T12:00:00Z') }).via, 'sigv4-query');
  const e = s3Error(() => verifySigV4(req, examples, { now: new Date('2013-05-25T00:00:01Z') }));
  assert.equal(e.code, 'AccessDenied');
  assert.equal(e.message, 'Request has expired');
  assert.equal(s3Error(() => verifySigV4({ ...req, url: PRESIGNED.replace('86400', '604801') }, examples, { now: MAY24 })).code, 'AuthorizationQueryParametersError');
});

test('S3 example: chunked upload, every chunk signature chained from the seed', async () => {
  const raw: Array<[string, string]> = [
    ['Host', 's3.amazonaws.com'],
    ['x-amz-date', '20130524T000000Z'],
    ['x-amz-storage-class', 'REDUCED_REDUNDANCY'],
    ['Authorization', `AWS4-HMAC-SHA256 Credential=${S3_AKID}/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9`],
    ['x-amz-content-sha256', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'],
    ['Content-Encoding', 'aws-chunked'],
    ['x-amz-decoded-content-length', '66560'],
    ['Content-Length', '66824'],
  ];
  const body = (sig1: string) => Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sig1}\r\n`), Buffer.alloc(65536, 'a'), Buffer.from('\r\n'),
    Buffer.from('400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'), Buffer.alloc(1024, 'a'), Buffer.from('\r\n'),
    Buffer.from('0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
  ]);
  const good = body('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648');
  assert.equal(good.length, 66824);
  const run = async (bytes: Buffer) => {
    const req = request('PUT', '/examplebucket/chunkObject.txt', raw);
    const v = verifySigV4(req, examples, { now: MAY24 });
    attachStreamSigning(req.headers, v.signing, S3_AKID);
    const { streams, verifier } = bodyDecodersFor(req.headers);
    let n = 0;
    await pipeline([Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]), ...streams, verifier, new Writable({ write: (c: Buffer, _e, cb) => { n += c.length; cb(); } })]);
    return n;
  };
  assert.equal(await run(good), 66560);
  // The first chunk's signature altered: refused.
  await assert.rejects(run(body('ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288649')), (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch');
  // The data altered under the right signatures: refused.
  const tampered = Buffer.from(good);
  tampered[500] = 0x62;
  await assert.rejects(run(tampered), (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch');
});

// ---- errors ----------------------------------------------------------------------------

const NOW = new Date();
const keys = source({ alice: 'alice/secret+key=', 'temp': 'tempsecret' });
const signed = (over: Partial<Parameters<typeof signHeaders>[0]> = {}) => {
  const url = over.url ?? 'http://127.0.0.1:9000/bucket/a%20b%2Bc';
  const headers = signHeaders({ method: 'GET', url, credentials: { accessKeyId: 'alice', secretAccessKey: 'alice/secret+key=' }, ...over });
  const u = new URL(url);
  return request('GET', u.pathname + u.search, Object.entries(headers));
};

test('signHeaders output verifies; host with a port; query with encoded values', () => {
  verifySigV4(signed(), keys);
  verifySigV4(signed({ url: 'http://localhost/b/k?list-type=2&prefix=a%20b&delimiter=%2F' }), keys);
});

test('errors as S3 answers them', () => {
  const wrong = signed({ credentials: { accessKeyId: 'alice', secretAccessKey: 'wrong' } });
  const e = s3Error(() => verifySigV4(wrong, keys));
  assert.equal(e.code, 'SignatureDoesNotMatch');
  assert.equal(e.status, 403);
  assert.equal(e.fields.AWSAccessKeyId, 'alice');
  assert.match(e.fields.StringToSign, /^AWS4-HMAC-SHA256\n/);
  assert.match(e.fields.CanonicalRequest, /^GET\n\/bucket\/a%20b%2Bc\n/);
  assert.ok(!JSON.stringify(e.fields).includes('secret+key'), 'the secret is nowhere in the error');

  assert.equal(s3Error(() => verifySigV4(signed({ credentials: { accessKeyId: 'bob', secretAccessKey: 'x' } }), keys)).code, 'InvalidAccessKeyId');
  const skewed = s3Error(() => verifySigV4(signed({ now: new Date(Date.now() - 16 * 60_000) }), keys));
  assert.equal(skewed.code, 'RequestTimeTooSkewed');
  assert.ok(skewed.fields.RequestTime && skewed.fields.ServerTime);
  assert.equal(s3Error(() => verifySigV4(request('GET', '/b/k', [['Host', 'h']]), keys)).code, 'AccessDenied');
  assert.equal(s3Error(() => verifySigV4(request('GET', '/b/k', [['Host', 'h'], ['Authorization', 'AWS alice:c2ln']]), keys)).code, 'InvalidRequest');
  assert.equal(s3Error(() => verifySigV4(request('GET', '/b/k?AWSAccessKeyId=a&Signature=x&Expires=1', [['Host', 'h']]), keys)).code, 'InvalidRequest');
  assert.equal(s3Error(() => verifySigV4(request('GET', '/b/k', [['Host', 'h'], ['Authorization', 'AWS4-HMAC-SHA256 Credential=alice/2024/us-east-1/s3/aws4_request']]), keys)).code, 'AuthorizationHeaderMalformed');
  // An x-amz-* header sent but not signed.
  const extra = signed();
  extra.rawHeaders = [...extra.rawHeaders, 'x-amz-meta-evil', '1'];
  const ns = s3Error(() => verifySigV4(extra, keys));
  assert.equal(ns.code, 'AccessDenied');
  assert.equal(ns.fields.HeadersNotSigned, 'x-amz-meta-evil');
});

test('temporary credentials: the session token must come along, and expire', () => {
  const temp: CredentialSource = {
    lookup: (id) => (id === 'temp' ? makeCredential('temp', 'tempsecret', 'u', { sessionToken: 'TOKEN', expiresAt: new Date(Date.now() + 60_000) }) : undefined),
  };
  const creds = { accessKeyId: 'temp', secretAccessKey: 'tempsecret' };
  verifySigV4(signed({ credentials: { ...creds, sessionToken: 'TOKEN' } }), temp);
  assert.equal(s3Error(() => verifySigV4(signed({ credentials: creds }), temp)).code, 'InvalidToken');
  assert.equal(s3Error(() => verifySigV4(signed({ credentials: { ...creds, sessionToken: 'OTHER' } }), temp)).code, 'InvalidToken');
  const expired = signed({ credentials: { ...creds, sessionToken: 'TOKEN' } });
  assert.equal(s3Error(() => verifySigV4(expired, temp, { now: new Date(Date.now() + 120_000) })).code, 'ExpiredToken');
  const url = new URL(presignUrl({ method: 'GET', url: 'http://h/b/k', credentials: { ...creds, sessionToken: 'TOKEN' }, expiresSeconds: 60 }));
  verifySigV4(request('GET', url.pathname + url.search, [['Host', 'h']]), temp);
});

test('canonical URI: no double encoding, reserved characters encoded, slashes kept', () => {
  assert.equal(canonicalUri('/b/a%20b+c%25d=%E2%82%AC~'), '/b/a%20b%2Bc%25d%3D%E2%82%AC~');
  assert.equal(canonicalUri('/b//x/./y/../z'), '/b//x/./y/../z');
  assert.equal(uriEncode('a/b c', true), 'a/b%20c');
  assert.equal(canonicalQuery('b=2&a=&a=1&c'), 'a=&a=1&b=2&c=');
});

// ---- properties ------------------------------------------------------------------------

test('any mutated signature is refused', () => {
  const req = signed();
  const auth = req.headers.authorization as string;
  const sig = auth.slice(-64);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 63 }), fc.constantFrom(...'0123456789abcdef'), (i, ch) => {
      fc.pre(sig[i] !== ch);
      const mutated = auth.slice(0, -64) + sig.slice(0, i) + ch + sig.slice(i + 1);
      const r = { ...req, headers: { ...req.headers, authorization: mutated } };
      assert.equal(s3Error(() => verifySigV4(r, keys)).code, 'SignatureDoesNotMatch');
    }),
    { numRuns: 500 },
  );
});

test('the parser and canonicalizer never crash on any input', () => {
  const onlyS3Errors = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
    }
  };
  const piece = fc.constantFrom('AWS4-HMAC-SHA256 ', 'Credential=', 'alice/20240101/us-east-1/s3/aws4_request', 'SignedHeaders=', 'host;x-amz-date', 'Signature=', 'a'.repeat(64), ',', ' ', '/', '=', ';', '%', '%zz', '\u00e9', '\u0000');
  const header = fc.oneof(fc.array(piece, { maxLength: 12 }).map((p) => p.join('')), fc.string({ unit: 'binary', maxLength: 80 }));
  const target = fc.array(fc.oneof(fc.constantFrom('/', '?', '&', '=', '%', '%2', '%E2%82', '+', 'X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Credential=a%2F20240101%2Fr%2Fs3%2Faws4_request', 'X-Amz-Signature=' + 'b'.repeat(64), 'X-Amz-Date=20240101T000000Z', 'X-Amz-Expires=60', 'X-Amz-SignedHeaders=host'), fc.string({ maxLength: 5 })), { maxLength: 14 }).map((p) => '/' + p.join(''));
  fc.assert(
    fc.property(header, target, fc.string({ maxLength: 20 }), (auth, url, date) => {
      onlyS3Errors(() => parseAuthorizationHeader(auth));
      canonicalUri(url.split('?')[0]);
      canonicalQuery(url.split('?')[1] ?? '');
      const raw: Array<[string, string]> = [['Host', 'h'], ['x-amz-date', date], ['x-amz-content-sha256', 'UNSIGNED-PAYLOAD']];
      if (auth) raw.push(['Authorization', auth]);
      onlyS3Errors(() => verifySigV4(request('GET', url, raw), keys));
    }),
    { numRuns: 3000 },
  );
});

test('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: chunks and the trailer signature verified', async () => {
  const payload = Buffer.from('hello trailer world');
  const url = 'http://h/b/trailer.txt';
  const run = async (mutate: (wire: { trailerSig: string; checksum: string }) => void = () => undefined) => {
    const headers = signHeaders({
      method: 'PUT', url, payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', credentials: { accessKeyId: 'alice', secretAccessKey: 'alice/secret+key=' },
      headers: { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': String(payload.length), 'x-amz-trailer': 'x-amz-checksum-crc32' },
    });
    const req = request('PUT', '/b/trailer.txt', Object.entries(headers));
    const v = verifySigV4(req, keys);
    const { key, amzDate, scope, seedSignature } = v.signing;
    const h = (b: Buffer | string) => sha256Hex(b);
    const sig1 = signatureOf(key, `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${seedSignature}\n${h('')}\n${h(payload)}`);
    const sig0 = signatureOf(key, `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${sig1}\n${h('')}\n${h('')}`);
    const { crc32 } = await import('node:zlib');
    const wire = { checksum: Buffer.from((crc32(payload) >>> 0).toString(16).padStart(8, '0'), 'hex').toString('base64'), trailerSig: '' };
    wire.trailerSig = signatureOf(key, `AWS4-HMAC-SHA256-TRAILER\n${amzDate}\n${scope}\n${sig0}\n${h(`x-amz-checksum-crc32:${wire.checksum}\n`)}`);
    mutate(wire);
    const body = Buffer.concat([
      Buffer.from(`${payload.length.toString(16)};chunk-signature=${sig1}\r\n`), payload, Buffer.from('\r\n'),
      Buffer.from(`0;chunk-signature=${sig0}\r\nx-amz-checksum-crc32:${wire.checksum}\r\nx-amz-trailer-signature:${wire.trailerSig}\r\n\r\n`),
    ]);
    attachStreamSigning(req.headers, v.signing, 'alice');
    const { streams, verifier } = bodyDecodersFor(req.headers);
    await pipeline([Readable.from([body]), ...streams, verifier, new Writable({ write: (_c, _e, cb) => cb() })]);
  };
  await run();
  await assert.rejects(run((w) => (w.trailerSig = w.trailerSig.replace(/^./, (c) => (c === '0' ? '1' : '0')))), (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch');
  // A changed checksum under the old signature: the signature fails first.
  await assert.rejects(run((w) => (w.checksum = 'AAAAAA==')), (e: unknown) => e instanceof S3Error && e.code === 'SignatureDoesNotMatch');
});

test('any change to the path, the query or a signed header after signing is refused', () => {
  const base = signed({ url: 'http://127.0.0.1:9000/bucket/dir/a%20b?list-type=2&prefix=x', headers: { 'x-amz-meta-k': 'v', range: 'bytes=0-9' } });
  fc.assert(
    fc.property(fc.constantFrom('path', 'query', 'meta', 'range', 'method'), fc.string({ minLength: 1, maxLength: 3 }).filter((s) => /^[a-z0-9]+$/.test(s)), (what, extra) => {
      const r: SignedRequest = { ...base, headers: { ...base.headers }, rawHeaders: [...base.rawHeaders] };
      if (what === 'path') r.url = r.url!.replace('/dir/', `/dir${extra}/`);
      if (what === 'query') r.url = `${r.url}&${extra}=1`;
      if (what === 'method') r.method = 'DELETE';
      if (what === 'meta' || what === 'range') {
        const name = what === 'meta' ? 'x-amz-meta-k' : 'range';
        const i = r.rawHeaders.findIndex((h, j) => j % 2 === 0 && h.toLowerCase() === name);
        (r.rawHeaders as string[])[i + 1] += extra;
      }
      assert.equal(s3Error(() => verifySigV4(r, keys)).code, 'SignatureDoesNotMatch');
    }),
    { numRuns: 500 },
  );
});
