// POST Object (browser-based uploads) against a real worker: forms sent by fetch's FormData as a
// browser sends them, policies and their conditions, the answers S3 gives (204, 200, 201 with a
// document, 303 to a redirect), the errors, and in SIGV4 mode the policy signatures (SigV4 as
// boto3's generate_presigned_post makes them, and SigV2), checked before any byte is stored.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { signingKey, signatureOf } from '../../src/s3/auth/canonical.js';
import { bodyOf, s3Client, s3Error } from '../helpers/s3.js';
import { type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

const T = { timeout: 60_000 };
const PYTHON = '/usr/bin/python3';

type Fields = Array<[string, string]>;

/** Sends a form: `fields` in order, then the file (and `after`, fields S3 ignores). */
async function post(url: string, fields: Fields, file: string | Buffer = 'bar', opts: { filename?: string; after?: Fields } = {}) {
  const form = new FormData();
  for (const [k, v] of fields) form.append(k, v);
  form.append('file', new Blob([typeof file === 'string' ? file : new Uint8Array(file)]), opts.filename ?? 'upload.bin');
  for (const [k, v] of opts.after ?? []) form.append(k, v);
  const res = await fetch(url, { method: 'POST', body: form, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

const codeOf = (body: string) => /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
const base64Json = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

function policyOf(conditions: unknown[], expiration = inAnHour()): string {
  return base64Json({ expiration, conditions });
}

describe('POST Object (browser-based uploads), SIMPLE mode', { timeout: 300_000 }, () => {
  let w: RunningWorker;
  let s3: S3Client;
  let url: string;
  const get = async (Key: string) => (await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key })))).toString();
  const missing = async (Key: string) => assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key })))).status, 404);
  /** A SigV2-signed form in SIMPLE mode: the signature names the user and is not checked. */
  const signed = (policy: string): Fields => [['AWSAccessKeyId', 'poster'], ['policy', policy], ['signature', 'not-checked-in-simple-mode']];

  before(async () => {
    w = await startWorker();
    s3 = s3Client(w);
    url = `${w.s3Url}/data`;
  });
  after(async () => {
    s3?.destroy();
    const output = w?.output() ?? '';
    await w?.stop();
    // No form, however broken, may take an S3 process down (another one would answer the next request).
    assert.doesNotMatch(output, /an S3 process died/);
  });

  test('an anonymous form: 204 with ETag and Location; stored headers and metadata come back on GET', T, async () => {
    const a = await post(url, [['key', 'forms/one.txt'], ['Content-Type', 'text/plain'], ['Cache-Control', 'no-cache'], ['x-amz-meta-color', 'blue'], ['x-amz-meta-note', 'café']], 'hello form');
    assert.equal(a.status, 204, a.body);
    assert.equal(a.headers.get('etag'), `"${createHash('md5').update('hello form').digest('hex')}"`);
    assert.equal(a.headers.get('location'), `${url}/forms/one.txt`);
    const out = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'forms/one.txt' }));
    assert.equal((await bodyOf(out)).toString(), 'hello form');
    assert.equal(out.ContentType, 'text/plain');
    assert.equal(out.CacheControl, 'no-cache');
    assert.equal(out.Metadata?.color, 'blue');
    // Text in a form comes back as the UTF-8 bytes of a header, as metadata a PUT sent does.
    assert.equal(Buffer.from(out.Metadata?.note ?? '', 'latin1').toString('utf8'), 'café');
  });

  test('${filename} in the key takes the file part\'s name; a field after the file is ignored', T, async () => {
    const a = await post(url, [['key', 'forms/${filename}']], 'named', { filename: 'photo.jpg', after: [['x-amz-meta-late', 'ignored']] });
    assert.equal(a.status, 204, a.body);
    assert.equal(await get('forms/photo.jpg'), 'named');
    assert.deepEqual((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'forms/photo.jpg' }))).Metadata, {});
  });

  test('success_action_status 201 answers a PostResponse, 200 an empty body, anything else 204', T, async () => {
    const created = await post(url, [['key', 'forms/201'], ['success_action_status', '201']]);
    assert.equal(created.status, 201);
    assert.match(created.body, /<PostResponse><Location>[^<]+\/data\/forms\/201<\/Location><Bucket>data<\/Bucket><Key>forms\/201<\/Key><ETag>/);
    const ok = await post(url, [['key', 'forms/200'], ['success_action_status', '200']]);
    assert.deepEqual([ok.status, ok.body], [200, '']);
    const other = await post(url, [['key', 'forms/404'], ['success_action_status', '404']]);
    assert.deepEqual([other.status, other.body], [204, '']);
  });

  test('success_action_redirect: 303 to it with bucket, key and ETag', T, async () => {
    const a = await post(url, [['key', 'forms/a b'], ['success_action_redirect', 'http://example.test/done?x=1']], 'r');
    assert.equal(a.status, 303);
    const etag = `"${createHash('md5').update('r').digest('hex')}"`;
    assert.equal(a.headers.get('location'), `http://example.test/done?x=1&bucket=data&key=forms%2Fa%20b&etag=${encodeURIComponent(etag)}`);
  });

  test('a tagging field (a Tagging document) tags the object', T, async () => {
    const tagging = '<Tagging><TagSet><Tag><Key>team</Key><Value>web</Value></Tag></TagSet></Tagging>';
    assert.equal((await post(url, [['key', 'forms/tagged'], ['tagging', tagging]])).status, 204);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'data', Key: 'forms/tagged' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'team', Value: 'web' }]);
  });

  test('a policy whose conditions hold (names of any case, starts-with, eq, content-length-range)', T, async () => {
    const policy = policyOf([{ bUcKeT: 'data' }, ['StArTs-WiTh', '$KeY', 'forms/'], ['eq', '$Content-Type', 'text/plain'], ['starts-with', '$x-amz-meta-tag', ''], ['content-length-range', 1, 100]]);
    const a = await post(url, [['kEy', 'forms/policy.txt'], ['Content-Type', 'text/plain'], ['x-amz-meta-tag', 'anything'], ['x-ignore-me', 'free'], ...signed(policy)], 'within');
    assert.equal(a.status, 204, a.body);
    assert.equal(await get('forms/policy.txt'), 'within');
  });

  test('a policy refuses: a failed condition, a field no condition names, the bucket not named, expiry -> 403 AccessDenied, nothing stored', T, async () => {
    const cases: Array<[string, unknown[], Fields, string?]> = [
      ['failed starts-with', [{ bucket: 'data' }, ['starts-with', '$key', 'elsewhere/']], [['key', 'forms/refused1']]],
      ['failed eq on a missing field', [{ bucket: 'data' }, ['starts-with', '$key', 'forms/'], ['eq', '$x-amz-meta-foo', 'bar']], [['key', 'forms/refused2']]],
      ['extra field', [{ bucket: 'data' }, ['starts-with', '$key', 'forms/']], [['key', 'forms/refused3'], ['x-amz-meta-extra', '1']]],
      ['bucket not named', [['starts-with', '$key', 'forms/']], [['key', 'forms/refused4']]],
      ['wrong bucket', [{ bucket: 'other' }, ['starts-with', '$key', 'forms/']], [['key', 'forms/refused5']]],
      ['expired', [{ bucket: 'data' }, ['starts-with', '$key', 'forms/']], [['key', 'forms/refused6']], new Date(Date.now() - 60_000).toISOString()],
    ];
    for (const [name, conditions, fields, expiration] of cases) {
      const a = await post(url, [...fields, ...signed(policyOf(conditions, expiration))]);
      assert.deepEqual([a.status, codeOf(a.body)], [403, 'AccessDenied'], `${name}: ${a.body}`);
      await missing(fields[0][1]);
    }
  });

  test('content-length-range: over the maximum is EntityTooLarge, under the minimum EntityTooSmall; nothing stored', T, async () => {
    const range = (min: number, max: number) => signed(policyOf([{ bucket: 'data' }, ['starts-with', '$key', 'forms/'], ['content-length-range', min, max]]));
    const big = await post(url, [['key', 'forms/too-big'], ...range(0, 1024)], Buffer.alloc(3 * 1024 * 1024, 7));
    assert.deepEqual([big.status, codeOf(big.body)], [400, 'EntityTooLarge'], big.body);
    await missing('forms/too-big');
    const small = await post(url, [['key', 'forms/too-small'], ...range(512, 1000)], 'bar');
    assert.deepEqual([small.status, codeOf(small.body)], [400, 'EntityTooSmall'], small.body);
    await missing('forms/too-small');
    const fits = await post(url, [['key', 'forms/fits'], ...range(3, 3)], 'bar');
    assert.equal(fits.status, 204, fits.body);
  });

  test('malformed policies are 400 InvalidPolicyDocument', T, async () => {
    const docs: Array<[string, unknown]> = [
      ['expiration not ISO 8601', { expiration: '2030-01-01 00:00:00', conditions: [] }],
      ['EXPIRATION is case sensitive', { EXPIRATION: inAnHour(), conditions: [] }],
      ['no conditions', { expiration: inAnHour() }],
      ['CONDITIONS is case sensitive', { expiration: inAnHour(), CONDITIONS: [] }],
      ['an empty condition', { expiration: inAnHour(), conditions: [{}] }],
      ['content-length-range without a maximum', { expiration: inAnHour(), conditions: [['content-length-range', 0]] }],
      ['negative content-length-range', { expiration: inAnHour(), conditions: [['content-length-range', -1, 0]] }],
    ];
    for (const [name, doc] of docs) {
      const a = await post(url, [['key', 'forms/bad-policy'], ...signed(base64Json(doc))]);
      assert.deepEqual([a.status, codeOf(a.body)], [400, 'InvalidPolicyDocument'], `${name}: ${a.body}`);
    }
    const notJson = await post(url, [['key', 'forms/bad-policy'], ...signed(Buffer.from('{nope').toString('base64'))]);
    assert.deepEqual([notJson.status, codeOf(notJson.body)], [400, 'InvalidPolicyDocument']);
    await missing('forms/bad-policy');
  });

  test('malformed forms: not multipart, no file, no key, a policy without its signature, fields too large', T, async () => {
    const plain = await fetch(url, { method: 'POST', body: 'key=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.deepEqual([plain.status, codeOf(await plain.text())], [412, 'PreconditionFailed']);
    const form = new FormData();
    form.append('key', 'forms/no-file');
    const noFile = await fetch(url, { method: 'POST', body: form });
    assert.deepEqual([noFile.status, codeOf(await noFile.text())], [400, 'IncorrectNumberOfFilesInPostRequest']);
    const noKey = await post(url, [['Content-Type', 'text/plain']]);
    assert.deepEqual([noKey.status, codeOf(noKey.body)], [400, 'InvalidArgument']);
    const unsigned = await post(url, [['key', 'forms/unsigned'], ['AWSAccessKeyId', 'poster'], ['policy', policyOf([{ bucket: 'data' }])]]);
    assert.deepEqual([unsigned.status, codeOf(unsigned.body)], [400, 'InvalidArgument'], unsigned.body);
    const huge = await post(url, [['key', 'forms/huge'], ['x-amz-meta-big', 'x'.repeat(70 * 1024)]]);
    assert.deepEqual([huge.status, codeOf(huge.body)], [400, 'MaxPostPreDataLengthExceededError'], huge.body);
    const metaTooLarge = await post(url, [['key', 'forms/meta'], ['x-amz-meta-big', 'x'.repeat(3000)]]);
    assert.deepEqual([metaTooLarge.status, codeOf(metaTooLarge.body)], [400, 'MetadataTooLarge']);
    for (const key of ['forms/no-file', 'forms/unsigned', 'forms/huge', 'forms/meta']) await missing(key);
    // The worker still serves after all that.
    assert.equal((await post(url, [['key', 'forms/after']])).status, 204);
  });

  test('a form cut off in the middle of its file leaves no object and no temporary file', T, async () => {
    const boundary = 'cutBoundary';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nforms/cut\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.bin"\r\n\r\n`;
    await new Promise<void>((resolve) => {
      const socket = connect(w.s3Port, '127.0.0.1', () => {
        socket.write(`POST /data HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 10000000\r\n\r\n${head}`);
        socket.write(Buffer.alloc(256 * 1024, 1));
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 300);
      });
      socket.on('error', () => undefined);
    });
    const tmp = join(w.rootUfs, 'data', '.strata.sys', 'tmp');
    await waitFor(async () => !existsSync(tmp) || readdirSync(tmp).length === 0, 10_000, () => `temporary files left behind: ${readdirSync(tmp).join(', ')}`);
    await missing('forms/cut');
    assert.equal((await post(url, [['key', 'forms/cut']], 'whole')).status, 204);
    assert.equal(await get('forms/cut'), 'whole');
  });

  test('a form without its closing boundary is MalformedPOSTRequest (and the worker lives on)', T, async () => {
    for (const tail of ['hello', 'hello\r\n']) {
      const body = '--B\r\nContent-Disposition: form-data; name="key"\r\n\r\nforms/unclosed\r\n' +
        `--B\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n${tail}`;
      const a = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'multipart/form-data; boundary=B' }, signal: AbortSignal.timeout(10_000) });
      const text = await a.text();
      assert.deepEqual([a.status, codeOf(text)], [400, 'MalformedPOSTRequest'], text);
      await missing('forms/unclosed');
    }
    assert.equal((await post(url, [['key', 'forms/unclosed']], 'closed')).status, 204);
  });

  test('a file sent as a text field is the object; many small fields are fine, their bytes are what is limited', T, async () => {
    const form = new FormData();
    form.append('key', 'forms/text-file');
    form.append('file', 'typed into a textarea');
    const a = await fetch(url, { method: 'POST', body: form, signal: AbortSignal.timeout(10_000) });
    assert.equal(a.status, 204, await a.text());
    assert.equal(await get('forms/text-file'), 'typed into a textarea');
    const many: Fields = Array.from({ length: 300 }, (_, i) => [`x-ignore-${i}`, 'v']);
    assert.equal((await post(url, [...many, ['key', 'forms/many-fields']])).status, 204);
    const tooMany: Fields = Array.from({ length: 1500 }, (_, i) => [`x-ignore-${i}`, 'v']);
    const refused = await post(url, [...tooMany, ['key', 'forms/too-many-fields']]);
    assert.deepEqual([refused.status, codeOf(refused.body)], [400, 'MaxPostPreDataLengthExceededError']);
  });

  /** A form sent as raw bytes: `parts` are [headers of the part, content]. */
  async function rawForm(parts: Array<[string, Buffer | string]>, closed = true) {
    const chunks: Buffer[] = [];
    for (const [headers, content] of parts) chunks.push(Buffer.from(`--B\r\n${headers}\r\n\r\n`), Buffer.from(content), Buffer.from('\r\n'));
    if (closed) chunks.push(Buffer.from('--B--\r\n'));
    const res = await fetch(url, { method: 'POST', body: Buffer.concat(chunks), headers: { 'content-type': 'multipart/form-data; boundary=B' }, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  }
  const field = (name: string, filename?: string) => `Content-Disposition: form-data; name="${name}"${filename === undefined ? '' : `; filename="${filename}"`}`;

  test('fields that could not be sent back as headers are refused (nothing stored, the worker lives on)', T, async () => {
    for (const [name, value] of [['x-amz-meta-a b', 'v'], ['x-amz-meta-é', 'v'], ['Content-Type', 'text/plain\r\nSet-Cookie: x=1'], ['x-amz-meta-c', 'a\u0001b']]) {
      const a = await post(url, [['key', 'forms/unsendable'], [name, value]]);
      assert.deepEqual([a.status, codeOf(a.body)], [400, 'InvalidArgument'], `${JSON.stringify(name)}: ${a.body}`);
      await missing('forms/unsendable');
    }
    // A field sent as a file part and cut off: an error answer, and the process serves on.
    const cut = await rawForm([[field('key'), 'forms/cut-field'], [field('x-amz-meta-a', 'a'), 'partial']], false);
    assert.equal(cut.status, 400, cut.body);
    assert.equal((await post(url, [['key', 'forms/after-cut-field']])).status, 204);
  });

  test('a text field named file keeps its bytes; over its limit it is EntityTooLarge; a field part over the pre-data limit is refused', T, async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const a = await rawForm([[field('key'), 'forms/bytes'], [field('file'), bytes]]);
    assert.equal(a.status, 204, a.body);
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'forms/bytes' })))).equals(bytes));
    const big = await rawForm([[field('key'), 'forms/big-text'], [field('file'), 'x'.repeat(1024 * 1024 + 1)]]);
    assert.deepEqual([big.status, codeOf(big.body)], [400, 'EntityTooLarge'], big.body);
    await missing('forms/big-text');
    const hugePart = await rawForm([[field('key'), 'forms/huge-part'], [field('x-amz-meta-a', 'a.txt'), Buffer.alloc(4 * 1024 * 1024, 97)], [field('file', 'f'), 'x']]);
    assert.deepEqual([hugePart.status, codeOf(hugePart.body)], [400, 'MaxPostPreDataLengthExceededError'], hugePart.body);
    // The first field of a name wins, whether it came as a file part or not.
    const twice = await rawForm([[field('key', 'k.txt'), 'forms/first'], [field('key'), 'forms/second'], [field('file', 'f'), 'x']]);
    assert.equal(twice.status, 204, twice.body);
    assert.equal(await get('forms/first'), 'x');
    await missing('forms/second');
  });

  test('a larger file streams whole (8 MiB)', T, async () => {
    const data = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 4096) data.writeUInt32BE(i, i);
    const a = await post(url, [['key', 'forms/large.bin']], data);
    assert.equal(a.status, 204, a.body);
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'forms/large.bin' })))).equals(data));
  });
});

describe('POST Object in SIGV4 mode: signed policies', { timeout: 300_000 }, () => {
  const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice/Secret+Key=1' };
  const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret' };
  let w: RunningWorker;
  let dir: string;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-post-'));
    writeFileSync(join(dir, 'credentials'), `${ALICE.accessKeyId} ${ALICE.secretAccessKey} alice\n${BOB.accessKeyId} ${BOB.secretAccessKey} bob\n`);
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({
      rules: [
        { principals: ['alice'], actions: ['*'], buckets: ['*'] },
        { principals: ['bob'], actions: ['read', 'list', 'write'], buckets: ['data'], prefixes: ['bob/'] },
      ],
    }));
    w = await startWorker({
      conf: {
        'strata.security.authentication.type': 'SIGV4',
        'strata.security.credentials.file': join(dir, 'credentials'),
        'strata.security.authorization.policy.file': join(dir, 'policy.json'),
      },
    });
    url = `${w.s3Url}/data`;
  });
  after(async () => {
    await w?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The fields of a SigV4-signed policy, as the AWS SDKs make them. */
  function sigv4Fields(creds: { accessKeyId: string; secretAccessKey: string }, conditions: unknown[], secret = creds.secretAccessKey): Fields {
    const now = new Date();
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const date = amzDate.slice(0, 8);
    const credential = `${creds.accessKeyId}/${date}/us-east-1/s3/aws4_request`;
    const policy = policyOf([...conditions, { 'x-amz-algorithm': 'AWS4-HMAC-SHA256' }, { 'x-amz-credential': credential }, { 'x-amz-date': amzDate }]);
    const signature = signatureOf(signingKey(secret, date, 'us-east-1', 's3'), policy);
    return [['x-amz-algorithm', 'AWS4-HMAC-SHA256'], ['x-amz-credential', credential], ['x-amz-date', amzDate], ['policy', policy], ['x-amz-signature', signature]];
  }

  test('a SigV4-signed policy uploads as its signer; a wrong secret or an unknown key is refused', T, async () => {
    const conditions = [{ bucket: 'data' }, ['starts-with', '$key', 'signed/']];
    const a = await post(url, [['key', 'signed/v4.txt'], ...sigv4Fields(ALICE, conditions)], 'v4 body');
    assert.equal(a.status, 204, a.body);
    const s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: ALICE, maxAttempts: 1 });
    try {
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'signed/v4.txt' }));
      assert.equal(head.ContentLength, 7);
      const wrong = await post(url, [['key', 'signed/wrong.txt'], ...sigv4Fields(ALICE, conditions, 'not-the-secret')]);
      assert.deepEqual([wrong.status, codeOf(wrong.body)], [403, 'SignatureDoesNotMatch'], wrong.body);
      const unknown = await post(url, [['key', 'signed/unknown.txt'], ...sigv4Fields({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' }, conditions)]);
      assert.deepEqual([unknown.status, codeOf(unknown.body)], [403, 'InvalidAccessKeyId'], unknown.body);
      const anonymous = await post(url, [['key', 'signed/anonymous.txt']]);
      assert.deepEqual([anonymous.status, codeOf(anonymous.body)], [403, 'AccessDenied'], anonymous.body);
      for (const key of ['signed/wrong.txt', 'signed/unknown.txt', 'signed/anonymous.txt']) {
        assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: key })))).status, 404, key);
      }
    } finally {
      s3.destroy();
    }
  });

  test('a SigV2-signed policy (AWSAccessKeyId, signature) is checked too', T, async () => {
    const policy = policyOf([{ bucket: 'data' }, ['starts-with', '$key', 'signed/']]);
    const v2 = (secret: string) => createHmac('sha1', secret).update(policy).digest('base64');
    const good = await post(url, [['key', 'signed/v2.txt'], ['AWSAccessKeyId', ALICE.accessKeyId], ['policy', policy], ['signature', v2(ALICE.secretAccessKey)]]);
    assert.equal(good.status, 204, good.body);
    const bad = await post(url, [['key', 'signed/v2-bad.txt'], ['AWSAccessKeyId', ALICE.accessKeyId], ['policy', policy], ['signature', v2('wrong')]]);
    assert.deepEqual([bad.status, codeOf(bad.body)], [403, 'SignatureDoesNotMatch']);
  });

  test('the authorization policy applies to the signer and the key the form names', T, async () => {
    const conditions = [{ bucket: 'data' }, ['starts-with', '$key', '']];
    assert.equal((await post(url, [['key', 'bob/mine.txt'], ...sigv4Fields(BOB, conditions)])).status, 204);
    const refused = await post(url, [['key', 'alice-only.txt'], ...sigv4Fields(BOB, conditions)]);
    assert.deepEqual([refused.status, codeOf(refused.body)], [403, 'AccessDenied']);
  });

  test('boto3 generate_presigned_post: its fields upload as they are', { timeout: 60_000, skip: !existsSync(PYTHON) && 'no /usr/bin/python3' }, async () => {
    const script = [
      'import boto3, botocore.config, json, sys',
      `s3 = boto3.client("s3", endpoint_url="${w.s3Url}", aws_access_key_id="${ALICE.accessKeyId}", aws_secret_access_key="${ALICE.secretAccessKey}", region_name="us-east-1", config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))`,
      'p = s3.generate_presigned_post("data", "boto/${filename}", Fields={"Content-Type": "text/plain"}, Conditions=[{"Content-Type": "text/plain"}, ["content-length-range", 1, 1000]], ExpiresIn=600)',
      'print(json.dumps(p))',
    ].join('\n');
    const presigned = await new Promise<{ url: string; fields: Record<string, string> }>((resolve, reject) => {
      execFile(PYTHON, ['-c', script], { timeout: 30_000, env: { PATH: '/usr/bin:/bin', HOME: tmpdir(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout))));
    });
    assert.ok(presigned.fields['x-amz-signature'], 'boto3 signed with SigV4');
    const a = await post(presigned.url, Object.entries(presigned.fields), 'from boto3', { filename: 'b.txt' });
    assert.equal(a.status, 204, a.body);
    const s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: ALICE, maxAttempts: 1 });
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'boto/b.txt' }));
      assert.equal(out.ContentType, 'text/plain');
      assert.equal((await bodyOf(out)).toString(), 'from boto3');
    } finally {
      s3.destroy();
    }
  });
});
