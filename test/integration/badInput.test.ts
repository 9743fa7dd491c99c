// Bad input over raw HTTP (requests SDKs will not send): each answer has the right status, the XML
// <Code>, an x-amz-request-id header; nothing is written; the worker keeps serving.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

const T = { timeout: 60_000 };
const AUTH = 'AWS4-HMAC-SHA256 Credential=testuser/20250101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000';

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const md5b64 = (b: string | Buffer) => createHash('md5').update(b).digest('base64');

describe('bad input over raw HTTP', { timeout: 600_000 }, () => {
  let w: RunningWorker;

  before(async () => {
    w = await startWorker();
  });
  after(async () => {
    await w?.stop();
  });

  /** Regular files open in the worker's processes (/proc/<pid>/fd), to see that none leak. */
  function openFiles(): number {
    const pids = [w.process.pid!, ...execSync(`pgrep -P ${w.process.pid} || true`).toString().trim().split('\n').filter(Boolean).map(Number)];
    let n = 0;
    for (const pid of pids) {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const target = (() => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ''; } })();
        if (target.startsWith('/')) n++;
      }
    }
    return n;
  }

  /** One request through node:http (path sent verbatim: options, not a URL that would resolve dot segments). */
  function send(method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const h: Record<string, string> = { authorization: AUTH, 'x-amz-date': '20250101T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers };
      if (body !== undefined && h['content-length'] === undefined) h['content-length'] = String(Buffer.byteLength(body));
      const req = request({ host: '127.0.0.1', port: w.s3Port, path, method, headers: h, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error(`${method} ${path}: no answer within 20 s`)));
      req.end(body);
    });
  }

  /**
   * Raw bytes on a socket. `endWrite` half-closes after writing. Resolves with everything the worker
   * sent before it closed the connection, or after `waitMs`.
   */
  function raw(bytes: string | Buffer, opts: { endWrite?: boolean; waitMs?: number } = {}): Promise<string> {
    return new Promise((resolve) => {
      const s = connect(w.s3Port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        s.destroy();
        resolve(Buffer.concat(chunks).toString('latin1'));
      };
      s.on('data', (d: Buffer) => chunks.push(d));
      s.on('error', () => finish());
      s.on('close', () => finish());
      s.write(bytes, () => {
        if (opts.endWrite) s.end();
      });
      setTimeout(finish, opts.waitMs ?? 5000).unref();
    });
  }

  function expectError(a: Answer, status: number, code: string) {
    assert.equal(a.status, status, `status; body: ${a.body}`);
    assert.match(a.body, new RegExp(`<Code>${code}</Code>`), `code; body: ${a.body}`);
    assert.ok(a.headers['x-amz-request-id'], 'x-amz-request-id header present');
    assert.match(a.body, /<RequestId>[^<]+<\/RequestId>/, 'RequestId in the XML');
    assert.match(a.body, new RegExp(`<HostId>${a.headers['x-amz-id-2']}</HostId>`), 'HostId is x-amz-id-2');
    assert.match(a.body, /<Message>[^<]*<\/Message>/, 'Message in the XML');
    assert.match(String(a.headers['content-type'] ?? ''), /xml/, 'XML content type');
  }

  async function stillServes() {
    const r = await send('GET', '/data?list-type=2&max-keys=1');
    assert.equal(r.status, 200, `the worker still serves: ${r.body}`);
    assert.ok(w.process.exitCode === null && w.process.signalCode === null, 'the worker process is alive');
  }

  test('DeleteObjects with malformed XML -> 400 MalformedXML', T, async () => {
    for (const body of ['<Delete><Object><Key>a</Key>', 'not xml at all', '<Delete><Object><Key>a</Key></Object></Wrong>', '']) {
      const a = await send('POST', '/data?delete', body, { 'content-md5': md5b64(body), 'content-type': 'application/xml' });
      expectError(a, 400, body === '' ? '(MalformedXML|MissingRequestBodyError)' : 'MalformedXML');
    }
    // Well-formed XML that is not a Delete document.
    const other = '<?xml version="1.0"?><Foo><Bar>1</Bar></Foo>';
    expectError(await send('POST', '/data?delete', other, { 'content-md5': md5b64(other) }), 400, 'MalformedXML');
    await stillServes();
  });

  test('bad Range: unsatisfiable -> 416 InvalidRange with Content-Range bytes */size', T, async () => {
    assert.equal((await send('PUT', '/data/range-obj', '0123456789')).status, 200);
    for (const range of ['bytes=10-20', 'bytes=50-', 'bytes=100-200']) {
      const a = await send('GET', '/data/range-obj', undefined, { range });
      expectError(a, 416, 'InvalidRange');
      assert.equal(a.headers['content-range'], 'bytes */10', range);
    }
    await stillServes();
  });

  test('syntactically invalid Range headers are ignored (200, whole object), as S3 and RFC 9110 do', T, async () => {
    assert.equal((await send('PUT', '/data/range-obj2', '0123456789')).status, 200);
    for (const range of ['bytes=5-2', 'bytes=abc', 'items=0-1']) {
      const a = await send('GET', '/data/range-obj2', undefined, { range });
      assert.equal(a.status, 200, `${range}: ${a.body}`);
      assert.equal(a.body, '0123456789', range);
    }
  });

  test('a bad continuation token -> 400 InvalidArgument', T, async () => {
    for (const token of ['not-a-token', '%00%01', 'AAAA', 'eyJrIjoxfQ%3D%3D']) {
      expectError(await send('GET', `/data?list-type=2&continuation-token=${token}`), 400, 'InvalidArgument');
    }
    await stillServes();
  });

  test('max-keys=-1 and max-keys=abc -> 400 InvalidArgument (ListObjectsV2 and ListObjects)', T, async () => {
    for (const mk of ['-1', 'abc', '1.5']) {
      expectError(await send('GET', `/data?list-type=2&max-keys=${mk}`), 400, 'InvalidArgument');
      expectError(await send('GET', `/data?max-keys=${mk}`), 400, 'InvalidArgument');
    }
    // 0 is valid: an empty, non-truncated-or-truncated page, never an error.
    const zero = await send('GET', '/data?list-type=2&max-keys=0');
    assert.equal(zero.status, 200, zero.body);
    await stillServes();
  });

  test('CreateBucket with an invalid name -> 400 InvalidBucketName', T, async () => {
    for (const name of ['Bad_Name', 'ab', 'UPPER', 'a'.repeat(64), 'bad..name', '-dash']) {
      const a = await send('PUT', `/${name}`, '');
      expectError(a, 400, 'InvalidBucketName');
      assert.ok(!existsSync(join(w.rootUfs, name)), `no folder for ${name}`);
    }
  });

  test('an oversized header (64 KiB value) gets a 4xx and the worker stays up', T, async () => {
    const reply = await raw(`GET /data/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    const m = /^HTTP\/1\.1 (\d{3})/.exec(reply);
    assert.ok(m, `an HTTP answer, got ${JSON.stringify(reply.slice(0, 200))}`);
    assert.ok(Number(m[1]) >= 400 && Number(m[1]) < 500, reply.slice(0, 300));
    await stillServes();
  });

  test('an oversized header -> 400 RequestHeaderSectionTooLarge with x-amz-request-id', T, async () => {
    const reply = await raw(`GET /data/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`);
    assert.match(reply, /^HTTP\/1\.1 400 /, reply.slice(0, 300));
    assert.match(reply, /<Code>RequestHeaderSectionTooLarge<\/Code>/, reply.slice(0, 600));
    assert.match(reply, /\r\nx-amz-request-id: \S+/i, reply.slice(0, 600));
    await stillServes();
  });

  test('a PUT whose body is shorter than its Content-Length leaves no object, and the worker serves', T, async () => {
    const reply = await raw(
      'PUT /data/short-body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n' + 'x'.repeat(50),
      { endWrite: true },
    );
    // An answer is optional (the client is gone), but never a success.
    assert.doesNotMatch(reply, /^HTTP\/1\.1 2/, reply.slice(0, 300));
    const head = await send('HEAD', '/data/short-body');
    assert.equal(head.status, 404, 'no object is visible');
    assert.ok(head.headers['x-amz-request-id']);
    assert.ok(!existsSync(join(w.rootUfs, 'data', 'short-body')), 'no file in the bucket folder');
    const list = await send('GET', '/data?list-type=2&prefix=short-body');
    assert.match(list.body, /<KeyCount>0<\/KeyCount>/);
    const tmp = join(w.rootUfs, 'data', '.strata.sys', 'tmp');
    await waitFor(async () => !existsSync(tmp) || readdirSync(tmp).length === 0, 10_000, () => `temporary files left behind: ${readdirSync(tmp).join(', ')}`);
    await stillServes();
    // And the same key can then be written whole.
    assert.equal((await send('PUT', '/data/short-body', 'y'.repeat(100))).status, 200);
    assert.equal((await send('GET', '/data/short-body')).body, 'y'.repeat(100));
  });

  test('paths that try to leave the mount -> 4xx error, nothing written', T, async () => {
    const rootBefore = readdirSync(w.rootUfs).sort();
    const workBefore = readdirSync(w.workDir).sort();
    for (const path of ['/data/..%2F..%2Fetc%2Fpasswd', '/data/a/%2E%2E/%2E%2E/x', '/data/%2E%2E/x', '/data/../x', '/data/a/../../x', '/data/a/%2e%2e%2f%2e%2e%2fx', '/data/x%00y']) {
      for (const method of ['GET', 'PUT', 'HEAD', 'DELETE']) {
        const a = await send(method, path, method === 'PUT' ? 'escape' : undefined);
        assert.ok(a.status >= 400 && a.status < 500, `${method} ${path} -> ${a.status} ${a.body}`);
        assert.ok(a.headers['x-amz-request-id'], `${method} ${path}: x-amz-request-id`);
        if (method !== 'HEAD') assert.match(a.body, /<Code>\w+<\/Code>/, `${method} ${path}: ${a.body}`);
      }
    }
    assert.deepEqual(readdirSync(w.rootUfs).sort(), rootBefore, 'nothing new beside the bucket folders');
    assert.deepEqual(readdirSync(w.workDir).sort(), workBefore, 'nothing new in the work folder');
    assert.ok(!existsSync(join(w.rootUfs, 'x')) && !existsSync(join(w.workDir, 'x')));
    await stillServes();
  });

  test('response-* values with control or non-Latin-1 characters are sent encoded; no file is left open', T, async () => {
    // Over 256 KiB: the body is read from an open file (ufs/fileBody.ts), which a failed answer must close.
    assert.equal((await send('PUT', '/data/override-big', Buffer.alloc(300 * 1024, 7))).status, 200);
    const before = openFiles();
    for (let i = 0; i < 40; i++) {
      const a = await send('GET', '/data/override-big?response-content-type=text%2Fplain%01x&response-content-disposition=attachment%3B%20filename%3D%22%E2%82%AC.txt%22&response-cache-control=a%0D%0AX-Injected%3A%201');
      assert.equal(a.status, 200, a.body.slice(0, 300));
      assert.equal(a.headers['content-type'], `=?UTF-8?B?${Buffer.from('text/plain\x01x').toString('base64')}?=`);
      // The UTF-8 bytes as sent (Node reads header bytes as Latin-1).
      assert.equal(Buffer.from(String(a.headers['content-disposition']), 'latin1').toString('utf8'), 'attachment; filename="€.txt"');
      assert.equal(a.headers['x-injected'], undefined, 'no header injected');
      assert.equal(a.body.length, 300 * 1024);
    }
    const HEAD = await send('HEAD', '/data/override-big?response-content-type=%01');
    assert.equal(HEAD.status, 200);
    await waitFor(async () => openFiles() <= before + 4, 10_000, () => `open files: ${before} before, ${openFiles()} after`);
  });

  test('an error part way through a body: the rest is read, the client gets the error, the connection serves on', T, async () => {
    // aws-chunked framing that breaks after the first chunk, followed by 8 MiB more: more than the
    // socket buffers hold, so the upload only completes if the worker reads on after its answer.
    const good = Buffer.alloc(64 * 1024, 97);
    const rest = Buffer.alloc(8 * 1024 * 1024, 98);
    const body = Buffer.concat([Buffer.from(`${good.length.toString(16)}\r\n`), good, Buffer.from('\r\nzz\r\n'), rest]);
    const socket = connect(w.s3Port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => undefined);
    const sent = new Promise<boolean>((resolve) => {
      socket.write(
        `PUT /data/broken-chunks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: aws-chunked\r\nx-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n` +
          `x-amz-decoded-content-length: ${good.length + rest.length}\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body, () => resolve(true));
      setTimeout(() => resolve(false), 10_000).unref();
    });
    assert.ok(await sent, 'the whole body was taken within 10 s');
    socket.write('HEAD /data/broken-chunks HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitFor(async () => (answer.match(/HTTP\/1\.1 \d{3}/g) ?? []).length === 2, 10_000, () => `answers: ${answer.slice(0, 600)}`);
    socket.destroy();
    const [first, second] = answer.match(/HTTP\/1\.1 \d{3}/g)!;
    assert.match(first, / 4\d\d$/);
    assert.match(answer, /<Code>\w+<\/Code>/);
    assert.equal(second, 'HTTP/1.1 404', 'the same connection answers the next request; nothing was written');
  });

  test('a versionId other than "null" is NoSuchVersion, and never acts on the current object', T, async () => {
    assert.equal((await send('PUT', '/data/versioned', 'current')).status, 200);
    const tagging = '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>';
    for (const [method, path, body, headers] of [
      ['DELETE', '/data/versioned?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY', undefined, {}],
      ['GET', '/data/versioned?versionId=abc', undefined, {}],
      ['PUT', '/data/versioned?tagging&versionId=zzz', tagging, { 'content-md5': md5b64(tagging) }],
      ['DELETE', '/data/versioned?tagging&versionId=zzz', undefined, {}],
    ] as const) {
      expectError(await send(method, path, body, headers), 404, 'NoSuchVersion');
    }
    const head = await send('HEAD', '/data/versioned?versionId=abc');
    assert.equal(head.status, 404);
    assert.equal(head.body, '');
    const got = await send('GET', '/data/versioned?versionId=null');
    assert.equal(got.status, 200);
    assert.equal(got.body, 'current', 'the object is still there, untagged');
    assert.match((await send('GET', '/data/versioned?tagging')).body, /<TagSet><\/TagSet>|<TagSet\/>/);
  });

  test('CompleteMultipartUpload without a body -> 400 MalformedXML, and the upload stays', T, async () => {
    const created = await send('POST', '/data/mpu-empty?uploads', '');
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created.body)![1];
    expectError(await send('POST', `/data/mpu-empty?uploadId=${uploadId}`, ''), 400, 'MalformedXML');
    // A part announced over 5 GiB is refused before its body is read (the body sent here is empty).
    const tooLarge = await raw(`PUT /data/mpu-empty?uploadId=${uploadId}&partNumber=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${5 * 1024 ** 3 + 1}\r\n\r\n`, { waitMs: 1500 });
    assert.match(tooLarge, /^HTTP\/1\.1 400/, tooLarge.slice(0, 200));
    assert.match(tooLarge, /<Code>EntityTooLarge<\/Code>/);
    assert.equal((await send('GET', `/data/mpu-empty?uploadId=${uploadId}`)).status, 200, 'ListParts: still in progress');
    assert.equal((await send('DELETE', `/data/mpu-empty?uploadId=${uploadId}`)).status, 204);
  });

  test('storage classes, canned ACLs, reserved tag keys and GetObjectAttributes without attributes: S3\'s answers', T, async () => {
    expectError(await send('PUT', '/data/sc', 'x', { 'x-amz-storage-class': 'FOO' }), 400, 'InvalidStorageClass');
    assert.equal((await send('HEAD', '/data/sc')).status, 404, 'nothing written');
    expectError(await send('POST', '/data/sc?uploads', '', { 'x-amz-storage-class': 'cold' }), 400, 'InvalidStorageClass');
    assert.equal((await send('PUT', '/data/sc', 'x', { 'x-amz-storage-class': 'GLACIER_IR' })).status, 200);
    // Copying onto itself with a new storage class is a change S3 accepts; without one it is not.
    assert.equal((await send('PUT', '/data/sc', '', { 'x-amz-copy-source': '/data/sc', 'x-amz-storage-class': 'STANDARD_IA' })).status, 200);
    expectError(await send('PUT', '/data/sc', '', { 'x-amz-copy-source': '/data/sc' }), 400, 'InvalidRequest');
    for (const acl of ['private', 'bucket-owner-full-control', 'bucket-owner-read']) {
      assert.equal((await send('PUT', '/data/sc?acl', '', { 'x-amz-acl': acl })).status, 200, acl);
    }
    expectError(await send('PUT', '/data/sc?acl', '', { 'x-amz-acl': 'public-read' }), 501, 'NotImplemented');
    // A canned ACL S3 does not know is InvalidArgument wherever it is sent; a known one that makes
    // an object or bucket is accepted (everything stays private to its owner).
    expectError(await send('PUT', '/data/sc?acl', '', { 'x-amz-acl': 'public-ready' }), 400, 'InvalidArgument');
    expectError(await send('PUT', '/data?acl', '', { 'x-amz-acl': 'public-ready' }), 400, 'InvalidArgument');
    expectError(await send('PUT', '/data/acl-bad', 'x', { 'x-amz-acl': 'public-ready' }), 400, 'InvalidArgument');
    assert.equal((await send('HEAD', '/data/acl-bad')).status, 404, 'nothing written');
    expectError(await send('POST', '/data/acl-bad?uploads', '', { 'x-amz-acl': 'nobody' }), 400, 'InvalidArgument');
    expectError(await send('PUT', '/acl-bucket-bad', '', { 'x-amz-acl': 'everyone' }), 400, 'InvalidArgument');
    assert.equal((await send('HEAD', '/acl-bucket-bad')).status, 404, 'no bucket made');
    assert.equal((await send('PUT', '/data/acl-ok', 'x', { 'x-amz-acl': 'public-read' })).status, 200);
    const tagging = '<Tagging><TagSet><Tag><Key>aws:owner</Key><Value>me</Value></Tag></TagSet></Tagging>';
    expectError(await send('PUT', '/data/sc?tagging', tagging, { 'content-md5': md5b64(tagging) }), 400, 'InvalidTag');
    expectError(await send('PUT', '/data/sc-tagged', 'x', { 'x-amz-tagging': 'AWS%3Aa=b' }), 400, 'InvalidTag');
    expectError(await send('GET', '/data/sc?attributes'), 400, 'InvalidRequest');
  });

  test('HEAD of a missing key -> 404 with an empty body and x-amz-request-id', T, async () => {
    const a = await send('HEAD', '/data/no/such/key');
    assert.equal(a.status, 404);
    assert.equal(a.body, '');
    assert.ok(a.headers['x-amz-request-id']);
    // On the wire: nothing after the headers (a HEAD error carries no body).
    const reply = await raw('HEAD /data/no/such/key HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    const [head, ...rest] = reply.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 404 /);
    assert.match(head, /\r\nx-amz-request-id: \S+/i);
    assert.equal(rest.join('\r\n\r\n'), '', 'no body bytes after a HEAD answer');
    const bucket = await send('HEAD', '/no-such-bucket');
    assert.equal(bucket.status, 404);
    assert.equal(bucket.body, '');
  });

  test('a malformed Authorization header -> 400 AuthorizationHeaderMalformed', T, async () => {
    for (const authorization of ['AWS4-HMAC-SHA256 garbage', 'AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=abc']) {
      expectError(await send('GET', '/data?list-type=2', undefined, { authorization }), 400, 'AuthorizationHeaderMalformed');
    }
    const put = await send('PUT', '/data/auth-bad', 'x', { authorization: 'AWS4-HMAC-SHA256 garbage' });
    expectError(put, 400, 'AuthorizationHeaderMalformed');
    assert.equal((await send('HEAD', '/data/auth-bad')).status, 404, 'nothing written');
  });

  test('Content-MD5 mismatch -> 400 BadDigest and the object is not written', T, async () => {
    const a = await send('PUT', '/data/md5-bad', 'the real body', { 'content-md5': md5b64('another body') });
    expectError(a, 400, 'BadDigest');
    assert.equal((await send('HEAD', '/data/md5-bad')).status, 404, 'nothing visible');
    assert.ok(!existsSync(join(w.rootUfs, 'data', 'md5-bad')));
    // An existing object is not replaced by a failed write.
    assert.equal((await send('PUT', '/data/md5-keep', 'version one', { 'content-md5': md5b64('version one') })).status, 200);
    expectError(await send('PUT', '/data/md5-keep', 'version two', { 'content-md5': md5b64('nope') }), 400, 'BadDigest');
    assert.equal((await send('GET', '/data/md5-keep')).body, 'version one');
  });

  test('malformed Content-MD5 -> 400 InvalidDigest', T, async () => {
    for (const md5 of ['not-base64!!', Buffer.from('short').toString('base64'), 'abc']) {
      expectError(await send('PUT', '/data/md5-invalid', 'body', { 'content-md5': md5 }), 400, 'InvalidDigest');
    }
    assert.equal((await send('HEAD', '/data/md5-invalid')).status, 404);
  });

  test('Expect: 100-continue upload works', T, async () => {
    const body = Buffer.alloc(200_000, 'e');
    let continued = false;
    const a = await new Promise<Answer>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port: w.s3Port, path: '/data/expect-continue', method: 'PUT', agent: false,
        headers: { authorization: AUTH, 'content-length': String(body.length), expect: '100-continue', 'content-md5': md5b64(body) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error('no 100 Continue / answer within 20 s')));
    });
    assert.ok(continued, 'the worker sent 100 Continue');
    assert.equal(a.status, 200, a.body);
    assert.equal(a.headers.etag, `"${createHash('md5').update(body).digest('hex')}"`);
    const got = await send('GET', '/data/expect-continue');
    assert.equal(got.body, body.toString());
    // An error known from the headers alone is answered instead of 100 Continue.
    const refused = await new Promise<Answer>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1', port: w.s3Port, path: '/no-such-bucket/k', method: 'PUT', agent: false,
        headers: { authorization: AUTH, 'content-length': '10', expect: '100-continue' },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('continue', () => req.end('0123456789'));
      req.on('error', reject);
      req.setTimeout(20_000, () => req.destroy(new Error('no answer within 20 s')));
    });
    expectError(refused, 404, 'NoSuchBucket');
  });

  test('DeleteObjects with more than 1000 keys -> 400 MalformedXML, nothing deleted', T, async () => {
    assert.equal((await send('PUT', '/data/many/keep', 'k')).status, 200);
    const objects = Array.from({ length: 1001 }, (_, i) => `<Object><Key>many/${i === 0 ? 'keep' : i}</Key></Object>`).join('');
    const body = `<Delete>${objects}</Delete>`;
    expectError(await send('POST', '/data?delete', body, { 'content-md5': md5b64(body) }), 400, 'MalformedXML');
    assert.equal((await send('HEAD', '/data/many/keep')).status, 200, 'nothing was deleted');
  });

  test('DeleteObjects without Content-MD5 or a checksum header -> 400 InvalidRequest (S3 requires one)', T, async () => {
    assert.equal((await send('PUT', '/data/nomd5/keep', 'k')).status, 200);
    const body = '<Delete><Object><Key>nomd5/keep</Key></Object></Delete>';
    expectError(await send('POST', '/data?delete', body), 400, 'InvalidRequest');
    assert.equal((await send('HEAD', '/data/nomd5/keep')).status, 200, 'nothing was deleted');
  });

  test('DeleteObjects with a wrong Content-MD5 -> 400 BadDigest, nothing deleted', T, async () => {
    assert.equal((await send('PUT', '/data/badmd5del/keep', 'k')).status, 200);
    const body = '<Delete><Object><Key>badmd5del/keep</Key></Object></Delete>';
    expectError(await send('POST', '/data?delete', body, { 'content-md5': md5b64('other') }), 400, 'BadDigest');
    assert.equal((await send('HEAD', '/data/badmd5del/keep')).status, 200, 'nothing was deleted');
  });

  test('aws-chunked body with a wrong trailing CRC32 -> 400, nothing written; a right one is stored', T, async () => {
    const headers = {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-trailer': 'x-amz-checksum-crc32',
      'x-amz-decoded-content-length': '5',
    };
    const bad = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n';
    const a = await send('PUT', '/data/chunked-bad', bad, headers);
    assert.equal(a.status, 400, a.body);
    assert.match(a.body, /<Code>BadDigest<\/Code>/, a.body);
    assert.ok(a.headers['x-amz-request-id']);
    assert.equal((await send('HEAD', '/data/chunked-bad')).status, 404, 'nothing visible');
    // crc32("hello") = 0x3610a686
    const good = '5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n';
    const ok = await send('PUT', '/data/chunked-good', good, headers);
    assert.equal(ok.status, 200, ok.body);
    assert.equal((await send('GET', '/data/chunked-good')).body, 'hello');
    // A chunk size that is not hex, and a body that ends mid-chunk.
    for (const broken of ['zz\r\nhello\r\n0\r\n\r\n', '5\r\nhel']) {
      const r = await send('PUT', '/data/chunked-broken', broken, { ...headers, 'x-amz-trailer': '' });
      assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(broken)} -> ${r.status} ${r.body}`);
      assert.match(r.body, /<Code>\w+<\/Code>/);
    }
    assert.equal((await send('HEAD', '/data/chunked-broken')).status, 404);
  });

  test('a path with broken percent-encoding -> 400 InvalidURI', T, async () => {
    expectError(await send('GET', '/data/bad%ZZescape'), 400, 'InvalidURI');
    expectError(await send('PUT', '/data/bad%E0%A4escape', 'x'), 400, 'InvalidURI');
    await stillServes();
  });

  test('an unsupported method -> 405 MethodNotAllowed', T, async () => {
    expectError(await send('PATCH', '/data/some-key', 'x'), 405, 'MethodNotAllowed');
    // A sub-resource with a method it does not take never falls through to the plain operation.
    assert.equal((await send('PUT', '/data/sub-kept', 'kept')).status, 200);
    const del = await send('DELETE', '/data/sub-kept?acl');
    expectError(del, 405, 'MethodNotAllowed');
    assert.equal(del.headers.allow, 'GET, PUT');
    assert.match(del.body, /<Method>DELETE<\/Method><ResourceType>OBJECT<\/ResourceType>/);
    expectError(await send('PUT', '/data/sub-kept?attributes', 'overwritten'), 405, 'MethodNotAllowed');
    assert.equal((await send('GET', '/data/sub-kept')).body, 'kept');
    await stillServes();
  });

  test('a client that drops the connection in the middle of a large GET does not hurt the worker', T, async () => {
    const big = Buffer.alloc(8 << 20, 'g');
    assert.equal((await send('PUT', '/data/dropped-get', big)).status, 200);
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: w.s3Port, path: '/data/dropped-get', method: 'GET', agent: false }, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
        req.end();
      });
    }
    await stillServes();
    const whole = await send('GET', '/data/dropped-get');
    assert.equal(whole.body.length, big.length);
  });

  test('a malformed Content-Length is refused with a 400 and the worker stays up', T, async () => {
    const reply = await raw('PUT /data/cl-bad HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\nConnection: close\r\n\r\nxyz');
    assert.match(reply, /^HTTP\/1\.1 400 /, reply.slice(0, 300));
    assert.match(reply, /\r\nx-amz-request-id: \S+/i, `x-amz-request-id on every response: ${reply.slice(0, 400)}`);
    assert.equal((await send('HEAD', '/data/cl-bad')).status, 404);
    await stillServes();
  });

  test('every error carries x-amz-request-id, including routing errors', T, async () => {
    expectError(await send('GET', '/no-such-bucket?list-type=2'), 404, 'NoSuchBucket');
    expectError(await send('GET', '/data/no-such-key'), 404, 'NoSuchKey');
    expectError(await send('GET', '/data?policy'), 501, 'NotImplemented');
    const ok = await send('GET', '/');
    assert.equal(ok.status, 200);
    assert.ok(ok.headers['x-amz-request-id'], 'successes carry it too');
  });
});
