// SIGV4 mode end to end with the AWS SDK v3 and hand-made requests: a credentials file whose
// secrets need encoding, keys with spaces, '+', '%', '=', unicode; default checksums (aws-chunked
// with an unsigned trailer), WHEN_REQUIRED, multipart via lib-storage, presigned URLs, signed
// streaming chunks (good and tampered), the errors S3 gives, the credentials file and the policy
// re-read when they change, and the admin API behind admin identities.
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { presignUrl, signHeaders } from '../../src/s3/auth/signer.js';
import { rawRequest } from '../helpers/http.js';
import { bodyOf, s3Error } from '../helpers/s3.js';
import { runCli, type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice/Secret+Key=1' };
const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob%secret&x' };
const ADMIN = { accessKeyId: 'AKIDADMIN', secretAccessKey: 'admin+secret/xyz=' };
const CAROL = { accessKeyId: 'AKIDCAROL', secretAccessKey: 'carol/new+key' };
const KEYS = ['dir/a b+c.txt', 'dir/100%.txt', 'dir/x=y&z~w.txt', 'dir/ünïcødé €.txt', "dir/quote's (1)!*.txt"];

const CREDENTIALS = [
  '# key secret user',
  `${ALICE.accessKeyId} ${ALICE.secretAccessKey} alice`,
  `${BOB.accessKeyId} ${BOB.secretAccessKey} bob`,
  `${ADMIN.accessKeyId} ${ADMIN.secretAccessKey} admin`,
  '',
].join('\n');

const policy = (bobWrites: boolean) => JSON.stringify({
  rules: [
    { principals: ['alice', 'admin'], actions: ['*'], buckets: ['*'] },
    { principals: ['bob'], actions: bobWrites ? ['read', 'list', 'write'] : ['read', 'list'], buckets: ['data'], prefixes: ['public/'] },
  ],
});

describe('SIGV4 mode: AWS SDK v3 and hand-made requests', { timeout: 600_000 }, () => {
  let w: RunningWorker;
  let dir: string;
  let credsFile: string;
  let policyFile: string;
  const client = (creds: { accessKeyId: string; secretAccessKey: string }, extra: Record<string, unknown> = {}) =>
    new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: creds, maxAttempts: 1, ...extra });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-sigv4-'));
    credsFile = join(dir, 'credentials');
    policyFile = join(dir, 'policy.json');
    writeFileSync(credsFile, CREDENTIALS);
    writeFileSync(policyFile, policy(false));
    w = await startWorker({
      conf: {
        'strata.security.authentication.type': 'SIGV4',
        'strata.security.credentials.file': credsFile,
        'strata.security.authorization.policy.file': policyFile,
        'strata.security.admin.users': 'admin',
        'strata.worker.s3.virtual.host.domains': 's3.strata.test',
        'strata.worker.s3.event.loops': '2',
      },
    });
  });
  after(async () => {
    await w?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('SDK defaults (aws-chunked, unsigned trailer checksums): keys that need encoding, put, get, list', async () => {
    const s3 = client(ALICE);
    for (const Key of KEYS) {
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: `body of ${Key}` }));
      assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key })))).toString(), `body of ${Key}`);
    }
    const list = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'dir/', Delimiter: '/' }));
    assert.deepEqual(list.Contents?.map((c) => c.Key).sort(), [...KEYS].sort());
    const weird = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'dir/x=y&z', StartAfter: 'dir/a b+c.txt' }));
    assert.deepEqual(weird.Contents?.map((c) => c.Key), ['dir/x=y&z~w.txt']);
    s3.destroy();
  });

  test('SDK with requestChecksumCalculation WHEN_REQUIRED (a plain signed payload hash)', async () => {
    const s3 = client(ALICE, { requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'plain/a+b c.bin', Body: Buffer.alloc(100_000, 7) }));
    const out = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'plain/a+b c.bin' })));
    assert.equal(out.length, 100_000);
    s3.destroy();
  });

  test('multipart upload via lib-storage', async () => {
    const s3 = client(ALICE);
    const body = randomBytes(12 * 1024 * 1024);
    await new Upload({ client: s3, params: { Bucket: 'data', Key: 'big/ü 12mib.bin', Body: Readable.from([body]) }, partSize: 5 * 1024 * 1024, queueSize: 2 }).done();
    const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'big/ü 12mib.bin' })));
    assert.ok(got.equals(body));
    s3.destroy();
  });

  test('presigned GET and PUT from @aws-sdk/s3-request-presigner; an expired one is refused', async () => {
    const s3 = client(ALICE);
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key: 'presigned/a b+c=d.txt' }), { expiresIn: 300 });
    assert.equal((await fetch(putUrl, { method: 'PUT', body: 'presigned body' })).status, 200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'data', Key: 'presigned/a b+c=d.txt' }), { expiresIn: 300 });
    const res = await fetch(getUrl);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'presigned body');
    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'data', Key: 'presigned/a b+c=d.txt' }), { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });
    const expired = await fetch(old);
    assert.equal(expired.status, 403);
    const text = await expired.text();
    assert.match(text, /<Code>AccessDenied<\/Code>/);
    assert.match(text, /Request has expired/);
    // A presigned URL with a tampered path.
    const moved = await fetch(getUrl.replace('presigned/a', 'presigned/b'));
    assert.equal(moved.status, 403);
    assert.match(await moved.text(), /SignatureDoesNotMatch/);
    s3.destroy();
  });

  /** A STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload: the seed signed by the SDK's SignatureV4, the chunks by hand. */
  async function streamingPut(key: string, chunks: Buffer[], tamper?: number): Promise<{ status: number; body: string }> {
    const url = new URL(`${w.s3Url}/data/${key.split('/').map(encodeURIComponent).join('/')}`);
    const decoded = chunks.reduce((n, c) => n + c.length, 0);
    const sigLine = (n: number) => `${n.toString(16)};chunk-signature=`.length + 64 + 2;
    const length = chunks.reduce((n, c) => n + sigLine(c.length) + c.length + 2, 0) + sigLine(0) + 2;
    const signer = new SignatureV4({ credentials: ALICE, region: 'us-east-1', service: 's3', sha256: Sha256, uriEscapePath: false, applyChecksum: false });
    const signed = await signer.sign({
      method: 'PUT', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {},
      headers: {
        host: url.host,
        'content-encoding': 'aws-chunked',
        'content-length': String(length),
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'x-amz-decoded-content-length': String(decoded),
      },
    });
    const headers = signed.headers as Record<string, string>;
    const seed = /Signature=([0-9a-f]{64})/.exec(headers.authorization)![1];
    const amzDate = headers['x-amz-date'];
    const scope = `${amzDate.slice(0, 8)}/us-east-1/s3/aws4_request`;
    let key2 = createHmac('sha256', 'AWS4' + ALICE.secretAccessKey).update(amzDate.slice(0, 8)).digest();
    for (const part of ['us-east-1', 's3', 'aws4_request']) key2 = createHmac('sha256', key2).update(part).digest();
    const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    let previous = seed;
    const parts: Buffer[] = [];
    for (const c of [...chunks, Buffer.alloc(0)]) {
      const sig = createHmac('sha256', key2).update(`AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${hex('')}\n${hex(c)}`).digest('hex');
      previous = sig;
      parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${sig}\r\n`), c, Buffer.from('\r\n'));
    }
    const body = Buffer.concat(parts);
    assert.equal(body.length, length);
    if (tamper !== undefined) body[tamper] ^= 1;
    const res = await rawRequest(w.s3Port, 'PUT', url.pathname, body, headers);
    return { status: res.status, body: res.body };
  }

  test('signed streaming chunks: verified; a tampered chunk fails the upload and nothing is written', async () => {
    const chunks = [randomBytes(64 * 1024), randomBytes(64 * 1024), randomBytes(1000)];
    const ok = await streamingPut('stream/ok file+1.bin', chunks);
    assert.equal(ok.status, 200, ok.body);
    const s3 = client(ALICE);
    const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'stream/ok file+1.bin' })));
    assert.ok(got.equals(Buffer.concat(chunks)));
    // One bit of the second chunk's data flipped.
    const bad = await streamingPut('stream/bad.bin', chunks, 64 * 1024 + 90 + 200);
    assert.equal(bad.status, 403, bad.body);
    assert.match(bad.body, /<Code>SignatureDoesNotMatch<\/Code>/);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'stream/bad.bin' })))).status, 404);
    assert.ok(!existsSync(join(w.rootUfs, 'data', 'stream', 'bad.bin')));
    s3.destroy();
  });

  test('wrong secret, unknown key, skewed clock, anonymous, SigV2: the errors S3 gives', async () => {
    const wrong = client({ accessKeyId: ALICE.accessKeyId, secretAccessKey: 'not-the-secret' });
    assert.deepEqual(await s3Error(wrong.send(new GetObjectCommand({ Bucket: 'data', Key: KEYS[0] }))), { code: 'SignatureDoesNotMatch', status: 403 });
    wrong.destroy();
    const unknown = client({ accessKeyId: 'AKIDNOBODY', secretAccessKey: 'x' });
    assert.deepEqual(await s3Error(unknown.send(new ListObjectsV2Command({ Bucket: 'data' }))), { code: 'InvalidAccessKeyId', status: 403 });
    unknown.destroy();

    const url = `${w.s3Url}/data/dir/a%20b%2Bc.txt`;
    const mismatch = await rawRequest(w.s3Port, 'GET', '/data/dir/a%20b%2Bc.txt', undefined, signHeaders({ method: 'GET', url, credentials: { ...ALICE, secretAccessKey: 'bad' } }));
    assert.match(mismatch.body, /<StringToSign>AWS4-HMAC-SHA256\n/);
    assert.match(mismatch.body, /<CanonicalRequest>GET\n\/data\/dir\/a%20b%2Bc.txt\n/);
    assert.match(mismatch.body, /<AWSAccessKeyId>AKIDALICE<\/AWSAccessKeyId>/);
    assert.match(mismatch.body, /<SignatureProvided>[0-9a-f]{64}<\/SignatureProvided>/);
    assert.ok(!mismatch.body.includes(ALICE.secretAccessKey));

    const skewed = await rawRequest(w.s3Port, 'GET', '/data/dir/a%20b%2Bc.txt', undefined, signHeaders({ method: 'GET', url, credentials: ALICE, now: new Date(Date.now() - 20 * 60_000) }));
    assert.equal(skewed.status, 403);
    assert.match(skewed.body, /<Code>RequestTimeTooSkewed<\/Code>/);
    assert.match(skewed.body, /<RequestTime>\d{8}T\d{6}Z<\/RequestTime><ServerTime>/);

    const anonymous = await rawRequest(w.s3Port, 'GET', '/data/dir/a%20b%2Bc.txt');
    assert.equal(anonymous.status, 403);
    assert.match(anonymous.body, /<Code>AccessDenied<\/Code>/);
    const v2 = await rawRequest(w.s3Port, 'GET', '/data/x', undefined, { authorization: 'AWS AKIDALICE:c2lnbmF0dXJl', date: new Date().toUTCString() });
    assert.equal(v2.status, 400);
    assert.match(v2.body, /Please use AWS4-HMAC-SHA256/);
    // An empty Authorization header is anonymous; an unknown scheme, a SigV2 header without its
    // colon, and a header beside a presigned query are InvalidArgument, as S3 answers them.
    const empty = await rawRequest(w.s3Port, 'PUT', '/data/empty-auth', 'x', { authorization: '' });
    assert.equal(empty.status, 403);
    assert.match(empty.body, /<Code>AccessDenied<\/Code>/);
    for (const authorization of ['Bearer abc', 'AWS4-HMAC-SHA512 Credential=x', 'AWS HAHAHA']) {
      const a = await rawRequest(w.s3Port, 'GET', '/data/x', undefined, { authorization });
      assert.equal(a.status, 400, authorization);
      assert.match(a.body, /<Code>InvalidArgument<\/Code>/, authorization);
      assert.match(a.body, /<ArgumentName>Authorization<\/ArgumentName>/, authorization);
    }
    const both = await rawRequest(w.s3Port, 'GET', `/data/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${'0'.repeat(64)}`, undefined, signHeaders({ method: 'GET', url: `${w.s3Url}/data/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${'0'.repeat(64)}`, credentials: ALICE }));
    assert.equal(both.status, 400);
    assert.match(both.body, /Only one auth mechanism allowed/);
  });

  test('virtual-hosted style: the Host is signed, the path is the one sent', async () => {
    const host = `data.s3.strata.test:${w.s3Port}`;
    const put = await rawRequest(w.s3Port, 'PUT', '/vhost/a%20b.txt', 'vh', signHeaders({ method: 'PUT', url: `http://${host}/vhost/a%20b.txt`, body: 'vh', credentials: ALICE }));
    assert.equal(put.status, 200, put.body);
    const get = await rawRequest(w.s3Port, 'GET', '/vhost/a%20b.txt', undefined, signHeaders({ method: 'GET', url: `http://${host}/vhost/a%20b.txt`, credentials: ALICE }));
    assert.equal(get.body, 'vh');
    // A plain payload hash that does not match the body: XAmzContentSHA256Mismatch, nothing written.
    const headers = signHeaders({ method: 'PUT', url: `http://${host}/vhost/lie.txt`, body: 'announced', credentials: ALICE });
    const lie = await rawRequest(w.s3Port, 'PUT', '/vhost/lie.txt', 'different', headers);
    assert.match(lie.body, /XAmzContentSHA256Mismatch/);
    assert.ok(!existsSync(join(w.rootUfs, 'data', 'vhost', 'lie.txt')));
  });

  test('the credentials file is re-read when it changes, in every process', async () => {
    const carol = client(CAROL);
    assert.equal((await s3Error(carol.send(new ListObjectsV2Command({ Bucket: 'data' })))).code, 'InvalidAccessKeyId');
    appendFileSync(credsFile, `${CAROL.accessKeyId} ${CAROL.secretAccessKey} alice\n`);
    // Several requests, so that both S3 processes answer.
    await waitFor(async () => {
      for (let i = 0; i < 6; i++) {
        const ok = await carol.send(new ListObjectsV2Command({ Bucket: 'data' })).then(() => true, () => false);
        if (!ok) return false;
      }
      return true;
    }, 10_000, () => 'the new key was not accepted');
    writeFileSync(credsFile, CREDENTIALS);
    await waitFor(async () => {
      for (let i = 0; i < 6; i++) {
        const refused = await carol.send(new ListObjectsV2Command({ Bucket: 'data' })).then(() => false, () => true);
        if (!refused) return false;
      }
      return true;
    }, 10_000, () => 'the removed key was still accepted');
    carol.destroy();
  });

  test('policy: bob reads and lists public/ only, may not write; a policy change lets him write', async () => {
    const alice = client(ALICE);
    await alice.send(new PutObjectCommand({ Bucket: 'data', Key: 'public/p.txt', Body: 'p' }));
    await alice.send(new PutObjectCommand({ Bucket: 'data', Key: 'private/q.txt', Body: 'q' }));
    const bob = client(BOB);
    assert.equal((await bodyOf(await bob.send(new GetObjectCommand({ Bucket: 'data', Key: 'public/p.txt' })))).toString(), 'p');
    assert.deepEqual(await s3Error(bob.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/q.txt' }))), { code: 'AccessDenied', status: 403 });
    assert.equal((await bob.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'public/' }))).KeyCount, 1);
    assert.equal((await s3Error(bob.send(new ListObjectsV2Command({ Bucket: 'data' })))).code, 'AccessDenied');
    assert.equal((await s3Error(bob.send(new PutObjectCommand({ Bucket: 'data', Key: 'public/new.txt', Body: 'n' })))).code, 'AccessDenied');
    assert.match(w.output(), /access denied by policy/);
    writeFileSync(policyFile, policy(true));
    await waitFor(async () => {
      for (let i = 0; i < 6; i++) {
        const ok = await bob.send(new PutObjectCommand({ Bucket: 'data', Key: 'public/new.txt', Body: 'n' })).then(() => true, () => false);
        if (!ok) return false;
      }
      return true;
    }, 10_000, () => 'the policy change was not picked up');
    assert.equal((await s3Error(bob.send(new PutObjectCommand({ Bucket: 'data', Key: 'private/new.txt', Body: 'n' })))).code, 'AccessDenied');
    alice.destroy();
    bob.destroy();
  });

  test('admin API: refused without an admin identity, allowed with one; CLI signs with flags or env', async () => {
    assert.equal((await fetch(`${w.adminUrl}/health`)).status, 200);
    assert.equal((await fetch(`${w.adminUrl}/metrics`)).status, 200);
    assert.equal((await fetch(`${w.adminUrl}/api/v1/mounts`)).status, 401);
    const asBob = await fetch(`${w.adminUrl}/api/v1/mounts`, { headers: strip(signHeaders({ method: 'GET', url: `${w.adminUrl}/api/v1/mounts`, credentials: BOB })) });
    assert.equal(asBob.status, 403);
    const asAdmin = await fetch(`${w.adminUrl}/api/v1/mounts`, { headers: strip(signHeaders({ method: 'GET', url: `${w.adminUrl}/api/v1/mounts`, credentials: ADMIN })) });
    assert.equal(asAdmin.status, 200);

    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir() };
    const noCreds = await runCli(['mount', 'list', '--worker', `127.0.0.1:${w.webPort}`], env);
    assert.notEqual(noCreds.code, 0);
    assert.match(noCreds.stderr, /AccessDenied/);
    const folder = mkdtempSync(join(dir, 'mount-'));
    const added = await runCli(['mount', 'add', '--path', '/extra', '--ufs-uri', `file://${folder}`, '--worker', `127.0.0.1:${w.webPort}`, '--access-key', ADMIN.accessKeyId, '--secret-key', ADMIN.secretAccessKey], env);
    assert.equal(added.code, 0, added.stderr);
    const listed = await runCli(['mount', 'list', '--worker', `127.0.0.1:${w.webPort}`], { ...env, AWS_ACCESS_KEY_ID: ADMIN.accessKeyId, AWS_SECRET_ACCESS_KEY: ADMIN.secretAccessKey });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /\/extra/);
    const notAdmin = await runCli(['mount', 'remove', '/extra', '--worker', `127.0.0.1:${w.webPort}`, '--access-key', BOB.accessKeyId, '--secret-key', BOB.secretAccessKey], env);
    assert.notEqual(notAdmin.code, 0);
    const status = await runCli(['status', '--worker', `127.0.0.1:${w.webPort}`, '--access-key', ADMIN.accessKeyId, '--secret-key', ADMIN.secretAccessKey], env);
    assert.equal(status.code, 0, status.stderr);
  });

  test('a hand-made presigned PUT (host only signed) works with any HTTP client', async () => {
    const url = presignUrl({ method: 'PUT', url: `${w.s3Url}/data/hand/%C3%A9%20%2B%25.txt`, credentials: ALICE, expiresSeconds: 60 });
    assert.equal((await fetch(url, { method: 'PUT', body: 'by hand' })).status, 200);
    const s3 = client(ALICE);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'hand/é +%.txt' })))).toString(), 'by hand');
    s3.destroy();
  });

  test('secrets never reach the log', () => {
    for (const c of [ALICE, BOB, ADMIN, CAROL]) assert.ok(!w.output().includes(c.secretAccessKey), 'a secret is in the log');
  });

  test('no S3 process died on the way (refused uploads close their sockets early)', () => {
    assert.ok(!w.output().includes('an S3 process died'), w.output().slice(-3000));
  });
});

/** The hash SignatureV4 wants, from node:crypto: SHA-256, or HMAC-SHA256 with a key. */
class Sha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret !== undefined ? createHmac('sha256', bytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

function bytes(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** fetch sets Host itself (the same value). */
function strip(h: Record<string, string>): Record<string, string> {
  const { host: _host, ...rest } = h;
  return rest;
}
