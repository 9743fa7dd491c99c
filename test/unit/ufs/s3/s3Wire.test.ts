// What the S3 adapter sends a store, seen by a recording stand-in store: a PUT carries its length,
// metadata, tags, header checksums and write conditions at request start; a ranged GET is one
// request with the client's range.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { S3Ufs } from '../../../../src/ufs/s3/s3Ufs.js';
import { emptyMeta } from '../../../../src/ufs/ufs.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

describe('S3 adapter on the wire', () => {
  let server: Server;
  let seen: Seen[] = [];
  let u: S3Ufs;
  let workDir: string;
  const object = Buffer.from('0123456789'.repeat(10));

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'strata-s3-wire-'));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        const url = new URL(req.url!, 'http://x');
        if (url.searchParams.has('list-type')) {
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0"?><ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>');
        } else if (url.searchParams.has('tagging')) {
          res.writeHead(200, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0"?><Tagging><TagSet></TagSet></Tagging>');
        } else if (req.method === 'HEAD') {
          res.writeHead(404).end();
        } else if (req.method === 'PUT') {
          res.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
        } else if (req.method === 'GET') {
          const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
          const start = m ? Number(m[1]) : 0;
          const end = m && m[2] ? Math.min(Number(m[2]), object.length - 1) : object.length - 1;
          res.writeHead(m ? 206 : 200, {
            'content-length': String(end - start + 1), etag: '"e"', 'last-modified': new Date().toUTCString(),
            ...(url.pathname.endsWith('/tagged') ? { 'x-amz-tagging-count': '1' } : {}),
            ...(m ? { 'content-range': `bytes ${start}-${end}/${object.length}` } : {}),
          });
          res.end(object.subarray(start, end + 1));
        } else {
          res.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    u = await S3Ufs.open('s3://b/pre/', { 's3a.accessKeyId': 'k', 's3a.secretKey': 's', 'underfs.s3.endpoint': endpoint, 'underfs.s3.disable.dns.buckets': 'true' }, { workDir });
  });

  after(async () => {
    await u.close();
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
    rmSync(workDir, { recursive: true, force: true });
  });

  test('a PUT sends length, metadata, tags, header checksums and conditions up front', async () => {
    seen = [];
    const data = Buffer.from('hello wire');
    const meta = { ...emptyMeta(), contentType: 'text/x', userMetadata: { a: 'b' }, owner: 'alice', tags: [['t', 'v w']] as Array<[string, string]>, checksums: { CRC32: 'AAAAAA==' } };
    const st = await u.write('k/1', [Readable.from([data])], () => ({ etag: 'x', meta }), (current) => assert.equal(current, null), { size: data.length, meta });
    assert.equal(st.etag, createHash('md5').update(data).digest('hex'));
    const put = seen.find((s) => s.method === 'PUT' && !s.url.includes('tagging'));
    assert.ok(put);
    assert.equal(new URL(put.url, 'http://x').pathname, '/b/pre/k/1');
    assert.equal(put.headers['content-length'], String(data.length));
    assert.equal(put.headers['content-type'], 'text/x');
    assert.equal(put.headers['x-amz-meta-a'], 'b');
    assert.equal(put.headers['x-amz-meta-strata-owner'], 'alice');
    assert.equal(put.headers['x-amz-tagging'], 't=v%20w');
    assert.equal(put.headers['x-amz-checksum-crc32'], 'AAAAAA==');
    assert.equal(put.headers['if-none-match'], '*', 'a create-only write asks the store to refuse an existing object');
    assert.deepEqual(put.body, data);
  });

  test('a ranged read is one GET with the range; a suffix range needs the size first', async () => {
    seen = [];
    const r = await u.read('obj', () => ({ start: 10, end: 19 }));
    const chunks: Buffer[] = [];
    for await (const c of r!.body) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), '0123456789');
    assert.deepEqual(seen.map((s) => [s.method, s.headers.range]), [['GET', 'bytes=10-19']]);
    r!.body.destroy();
    seen = [];
    const open = await u.read('obj', (size) => ({ start: 95, end: size - 1 }));
    assert.deepEqual(open?.range, { start: 95, end: 99 });
    open?.body.destroy();
    assert.deepEqual(seen.map((s) => [s.method, s.headers.range]), [['GET', 'bytes=95-']]);
  });

  test("a tagged object's tags cost a second request, which a bytes-only read (the page cache's) leaves out", async () => {
    seen = [];
    (await u.read('tagged', () => ({ start: 0, end: 9 })))!.body.destroy();
    assert.deepEqual(seen.map((s) => [s.method, new URL(s.url, 'http://x').searchParams.has('tagging')]), [['GET', false], ['GET', true]]);
    seen = [];
    const r = await u.read('tagged', () => ({ start: 0, end: 9 }), { bytesOnly: true });
    r!.body.destroy();
    assert.deepEqual(seen.map((s) => [s.method, new URL(s.url, 'http://x').searchParams.has('tagging')]), [['GET', false]]);
    assert.equal(r!.status.version.length > 0, true);
  });

  test('listing maps the prefix in and asks one more than wanted', async () => {
    seen = [];
    await u.list({ prefix: 'dir/', delimiter: '/', after: 'dir/a', maxKeys: 5 });
    const q = new URL(seen[0].url, 'http://x').searchParams;
    assert.equal(q.get('prefix'), 'pre/dir/');
    assert.equal(q.get('delimiter'), '/');
    assert.equal(q.get('start-after'), 'pre/dir/a');
    assert.equal(q.get('max-keys'), '6');
  });
});
