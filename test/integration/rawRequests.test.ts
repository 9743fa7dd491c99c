// Bad input over raw HTTP (what SDKs will not send): each gets the right S3 error, status and XML,
// nothing is written, and the worker keeps serving.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { rawRequest, type RawAnswer as Answer } from '../helpers/http.js';
import { type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

describe('bad input', { timeout: 120_000 }, () => {
  let w: RunningWorker;

  before(async () => {
    w = await startWorker();
  });
  after(() => w.stop());

  const send = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> =>
    rawRequest(w.s3Port, method, path, body, headers);

  /** Raw bytes on a socket; resolves with everything the worker answered before closing (or 3 s). */
  function raw(bytes: string, endWrite = true): Promise<string> {
    return new Promise((resolve) => {
      const s = connect(w.s3Port, '127.0.0.1');
      let out = '';
      s.on('data', (d) => (out += d));
      s.on('error', () => undefined);
      s.on('close', () => resolve(out));
      s.write(bytes, () => {
        if (endWrite) s.end();
      });
      setTimeout(() => {
        s.destroy();
        resolve(out);
      }, 3000).unref();
    });
  }

  const expectError = (a: Answer, status: number, code: string) => {
    assert.equal(a.status, status, a.body);
    assert.match(a.body, new RegExp(`<Code>${code}</Code>`));
    assert.match(a.body, /<RequestId>[0-9A-F]+<\/RequestId>/);
    assert.ok(a.headers['x-amz-request-id'], 'x-amz-request-id header');
  };

  test('malformed XML in DeleteObjects', async () => {
    const md5 = (s: string) => ({ 'content-md5': createHash('md5').update(s).digest('base64') });
    const broken = '<Delete><Object><Key>a</Key></Delete>';
    expectError(await send('POST', '/data?delete', broken, md5(broken)), 400, 'MalformedXML');
    expectError(await send('POST', '/data?delete', '<Delete></Delete>', md5('<Delete></Delete>')), 400, 'MalformedXML');
    const many = `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`;
    expectError(await send('POST', '/data?delete', many, md5(many)), 400, 'MalformedXML');
    // S3 wants the document's digest, and checks it before deleting anything.
    const good = '<Delete><Object><Key>ten</Key></Object></Delete>';
    expectError(await send('POST', '/data?delete', good), 400, 'InvalidRequest');
    expectError(await send('POST', '/data?delete', good, md5('something else')), 400, 'BadDigest');
  });

  test('SIMPLE mode: a presigned URL past its expiry, or malformed, is refused; one in its window is served', async () => {
    assert.equal((await send('PUT', '/data/presigned', 'p')).status, 200);
    const amz = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const url = (d: Date, expires: string) =>
      `/data/presigned?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F${amz(d).slice(0, 8)}%2Fus-east-1%2Fs3%2Faws4_request` +
      `&X-Amz-Date=${amz(d)}&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=${'0'.repeat(64)}`;
    const ok = await send('GET', url(new Date(), '60'));
    assert.deepEqual([ok.status, ok.body], [200, 'p']);
    const expired = await send('GET', url(new Date(Date.now() - 3600_000), '60'));
    assert.equal(expired.status, 403);
    assert.match(expired.body, /<Code>AccessDenied<\/Code><Message>Request has expired<\/Message>/);
    const tooLong = await send('GET', url(new Date(), '604801'));
    assert.match(tooLong.body, /<Code>AuthorizationQueryParametersError<\/Code>/);
    const v2 = await send('GET', `/data/presigned?AWSAccessKeyId=AK&Expires=${Math.floor(Date.now() / 1000) - 60}&Signature=x`);
    assert.equal(v2.status, 403);
    const v2ok = await send('GET', `/data/presigned?AWSAccessKeyId=AK&Expires=${Math.floor(Date.now() / 1000) + 60}&Signature=x`);
    assert.equal(v2ok.status, 200);
  });

  test('a PUT whose bucket is deleted while its body arrives: NoSuchBucket, and no bucket comes back', async () => {
    assert.equal((await send('PUT', '/going-away')).status, 200);
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: w.s3Port, method: 'PUT', path: '/going-away/foo', headers: { 'content-length': String(1 << 20) } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.write(Buffer.alloc(1 << 19, 1));
      // The half-written object is not visible, so the bucket is empty and may go.
      setTimeout(() => {
        void send('DELETE', '/going-away').then((d) => {
          assert.equal(d.status, 204, d.body);
          req.end(Buffer.alloc(1 << 19, 2));
        }, reject);
      }, 200);
    });
    const a = await answer;
    assert.equal(a.status, 404, a.body);
    assert.match(a.body, /<Code>NoSuchBucket<\/Code>/);
    assert.equal((await send('HEAD', '/going-away')).status, 404);
  });

  test('Content-Encoding: aws-chunked on a plain body is a label S3 drops; other encodings are kept as sent', async () => {
    for (const [sent, stored] of [['aws-chunked', undefined], ['gzip, aws-chunked', 'gzip'], ['aws-chunked, gzip', 'gzip'], ['deflate, gzip', 'deflate, gzip']] as const) {
      const put = await send('PUT', '/data/encoded', 'plain bytes', { 'content-encoding': sent, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
      assert.equal(put.status, 200, `${sent}: ${put.body}`);
      const got = await send('GET', '/data/encoded');
      assert.equal(got.body, 'plain bytes', sent);
      assert.equal(got.headers['content-encoding'], stored, sent);
    }
  });

  test('a bad Range', async () => {
    await send('PUT', '/data/ten', '0123456789');
    const a = await send('GET', '/data/ten', undefined, { range: 'bytes=20-30' });
    expectError(a, 416, 'InvalidRange');
    assert.equal(a.headers['content-range'], 'bytes */10');
    // Syntax S3 ignores: the whole object.
    assert.equal((await send('GET', '/data/ten', undefined, { range: 'bytes=abc' })).status, 200);
  });

  test('a bad continuation token and max-keys out of range', async () => {
    expectError(await send('GET', '/data?list-type=2&continuation-token=nonsense!'), 400, 'InvalidArgument');
    expectError(await send('GET', '/data?list-type=2&continuation-token=AAAA'), 400, 'InvalidArgument');
    expectError(await send('GET', '/data?list-type=2&max-keys=-1'), 400, 'InvalidArgument');
    expectError(await send('GET', '/data?max-keys=abc'), 400, 'InvalidArgument');
    expectError(await send('GET', '/data?encoding-type=base64'), 400, 'InvalidArgument');
    assert.match((await send('GET', '/data?list-type=2&max-keys=5000')).body, /<MaxKeys>1000<\/MaxKeys>/);
  });

  test('an invalid bucket name', async () => {
    for (const name of ['Bad_Name', 'ab', 'a'.repeat(64), '192.168.1.1', '-start', 'end-', 'two..dots']) {
      expectError(await send('PUT', `/${name}`), 400, 'InvalidBucketName');
    }
    expectError(await send('GET', '/no-such-bucket/key'), 404, 'NoSuchBucket');
  });

  test('an oversized header is refused and the worker stays up', async () => {
    const out = await raw(`GET /data/ten HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, false);
    assert.match(out, /^HTTP\/1\.1 400/);
    assert.match(out, /<Code>RequestHeaderSectionTooLarge<\/Code>/);
    assert.equal((await send('GET', '/data/ten')).status, 200);
  });

  test('a body shorter than its Content-Length writes nothing', async () => {
    const out = await raw('PUT /data/short HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n' + 'x'.repeat(50));
    assert.match(out, /^HTTP\/1\.1 400/);
    assert.match(out, /<Code>IncompleteBody<\/Code>/);
    assert.equal((await send('HEAD', '/data/short')).status, 404);
    // The answer may go out before the aborted write has removed its temporary file: give it a moment.
    await waitFor(async () => readdirSync(join(w.rootUfs, 'data', '.strata.sys', 'tmp')).length === 0, 5000, () => 'a temporary file was left behind');
    assert.equal((await send('GET', '/data/ten')).status, 200);
  });

  test('paths that try to leave the mount', async () => {
    for (const path of ['/data/..%2F..%2Fescaped', '/data/a/%2E%2E/%2E%2E/escaped', '/data/..', '/data/a//b', '/data/.%2Fx', '/data/a%00b']) {
      const a = await send('PUT', path, 'x');
      assert.ok(a.status >= 400 && a.status < 500, `${path}: ${a.status}`);
      assert.match(a.body, /<Code>(InvalidObjectName|InvalidURI)<\/Code>/, path);
      assert.ok((await send('GET', path)).status >= 400);
    }
    assert.ok(!existsSync(join(w.rootUfs, 'escaped')) && !existsSync(join(w.workDir, 'escaped')));
  });

  test('HEAD errors have no body', async () => {
    const a = await send('HEAD', '/data/missing');
    assert.equal(a.status, 404);
    assert.equal(a.body, '');
    assert.ok(a.headers['x-amz-request-id']);
  });

  test('a malformed Authorization header', async () => {
    expectError(await send('GET', '/data', undefined, { authorization: 'AWS4-HMAC-SHA256 garbage' }), 400, 'AuthorizationHeaderMalformed');
    expectError(await send('GET', '/data', undefined, { authorization: 'Bearer' }), 400, 'AuthorizationHeaderMalformed');
  });

  test('Content-MD5: wrong is BadDigest, malformed is InvalidDigest, nothing written', async () => {
    const wrong = createHash('md5').update('other').digest('base64');
    expectError(await send('PUT', '/data/md5', 'payload', { 'content-md5': wrong }), 400, 'BadDigest');
    expectError(await send('PUT', '/data/md5', 'payload', { 'content-md5': 'zzz' }), 400, 'InvalidDigest');
    assert.equal((await send('HEAD', '/data/md5')).status, 404);
    const right = createHash('md5').update('payload').digest('base64');
    assert.equal((await send('PUT', '/data/md5', 'payload', { 'content-md5': right })).status, 200);
  });

  test('user metadata over 2 KB is MetadataTooLarge', async () => {
    expectError(await send('PUT', '/data/meta', 'x', { 'x-amz-meta-big': 'v'.repeat(2100) }), 400, 'MetadataTooLarge');
    assert.equal((await send('PUT', '/data/meta', 'x', { 'x-amz-meta-ok': 'v'.repeat(1000) })).status, 200);
  });

  test('a PUT without Content-Length is MissingContentLength', async () => {
    const out = await raw('PUT /data/nolength HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(out, /^HTTP\/1\.1 411/);
    assert.match(out, /<Code>MissingContentLength<\/Code>/);
  });

  test('Expect: 100-continue uploads work', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${w.s3Url}/data/continued`, { method: 'PUT', headers: { expect: '100-continue', 'content-length': '5' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('continue', () => req.end('hello'));
      req.on('error', reject);
    });
    assert.equal(status, 200);
    assert.equal((await send('GET', '/data/continued')).body, 'hello');
  });

  test('a client that shuts its side after a whole request still gets the answer', async () => {
    // raw() half-closes (FIN) once it has written.
    const out = await raw('PUT /data/half-closed HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    assert.match(out, /^HTTP\/1\.1 200/);
    assert.match(await raw('GET /data/half-closed HTTP/1.1\r\nHost: x\r\n\r\n'), /\r\n\r\nhello$/);
  });

  test('an Expect header other than 100-continue is ignored and the request served, as S3 does', async () => {
    for (const expect of ['bogus', '200', '']) {
      const out = await raw(`PUT /data/expected HTTP/1.1\r\nHost: x\r\nExpect: ${expect}\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello`);
      assert.match(out, /^HTTP\/1\.1 200/, `Expect: ${expect}`);
    }
    assert.equal((await send('GET', '/data/expected')).body, 'hello');
  });

  test('an unknown x-amz-content-sha256 mode is InvalidArgument; SigV2 headers name the user', async () => {
    expectError(await send('PUT', '/data/sha', 'x', { 'x-amz-content-sha256': 'STREAMING-SOMETHING-ELSE' }), 400, 'InvalidArgument');
    const v2 = await send('PUT', '/data/v2', 'x', { authorization: 'AWS olduser:c2lnbmF0dXJl' });
    assert.equal(v2.status, 200);
    const acl = await send('GET', '/data/v2?acl', undefined, { authorization: 'AWS olduser:c2lnbmF0dXJl' });
    assert.match(acl.body, /<ID>olduser<\/ID>/);
  });

  test('unknown methods and sub-resources', async () => {
    expectError(await send('PATCH', '/data/k'), 405, 'MethodNotAllowed');
    expectError(await send('GET', '/data?policy'), 501, 'NotImplemented');
    expectError(await send('PUT', '/data?lifecycle', '<LifecycleConfiguration/>'), 501, 'NotImplemented');
  });
});
