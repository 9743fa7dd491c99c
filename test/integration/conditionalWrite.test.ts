// Conditional writes and deletes: If-None-Match: * (create only), If-Match (compare and swap),
// atomic among concurrent writers, also across the worker's processes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand,
  GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function outcome(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, String(e));
    return e.$metadata.httpStatusCode ?? 0;
  }
}

/** A PUT on its own connection (so racing requests spread over the worker's processes). */
function rawPut(w: RunningWorker, key: string, body: Buffer, headers: Record<string, string>): Promise<{ status: number; etag?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: w.s3Port, path: `/data/${key}`, method: 'PUT', agent: false, headers: { 'content-length': String(body.length), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('conditional writes', { timeout: 120_000 }, () => {
  let w: RunningWorker;
  let s3: S3Client;
  const Bucket = 'data';

  before(async () => {
    w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '2' } });
    s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'u', secretAccessKey: 's' }, maxAttempts: 1 });
  });
  after(async () => {
    s3.destroy();
    await w.stop();
  });

  test('If-None-Match: * creates only; If-Match replaces only the named version', async () => {
    assert.equal(await outcome(s3.send(new PutObjectCommand({ Bucket, Key: 'c/one', Body: 'first', IfNoneMatch: '*' }))), 200);
    assert.equal(await outcome(s3.send(new PutObjectCommand({ Bucket, Key: 'c/one', Body: 'second', IfNoneMatch: '*' }))), 412);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/one' }));
    assert.equal(await outcome(s3.send(new PutObjectCommand({ Bucket, Key: 'c/one', Body: 'third', IfMatch: '"0123"' }))), 412);
    assert.equal(await outcome(s3.send(new PutObjectCommand({ Bucket, Key: 'c/one', Body: 'third', IfMatch: head.ETag }))), 200);
    assert.equal(await outcome(s3.send(new PutObjectCommand({ Bucket, Key: 'c/missing', Body: 'x', IfMatch: head.ETag }))), 404);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'c/one' }));
    assert.equal(await got.Body?.transformToString(), 'third');
    assert.equal(await outcome(s3.send(new PutObjectCommand({ Bucket, Key: 'c/one', Body: 'x', IfNoneMatch: '"etag"' }))), 501);
  });

  test('20 racing create-only PUTs: exactly one wins, and the object is its bytes', async () => {
    const bodies = Array.from({ length: 20 }, () => randomBytes(256 * 1024));
    const results = await Promise.all(bodies.map((b) => rawPut(w, 'race/create', b, { 'if-none-match': '*' })));
    const winners = results.map((r, i) => [r.status, i] as const).filter(([s]) => s === 200);
    assert.equal(winners.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
    assert.equal(results.filter((r) => r.status === 412).length, 19);
    const stored = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'race/create' }))).Body!.transformToByteArray());
    assert.equal(md5(stored), md5(bodies[winners[0][1]]));
  });

  test('If-Match chains: of racers holding the same ETag exactly one wins each round', async () => {
    let etag = (await rawPut(w, 'race/cas', Buffer.from('v0'), {})).etag!;
    for (let round = 1; round <= 5; round++) {
      const bodies = Array.from({ length: 10 }, (_, i) => Buffer.from(`round ${round} writer ${i}`));
      const results = await Promise.all(bodies.map((b) => rawPut(w, 'race/cas', b, { 'if-match': etag })));
      const winners = results.map((r, i) => [r, i] as const).filter(([r]) => r.status === 200);
      assert.equal(winners.length, 1, `round ${round}: ${results.map((r) => r.status).join(',')}`);
      assert.ok(results.every((r) => r.status === 200 || r.status === 412));
      etag = winners[0][0].etag!;
      const stored = await (await s3.send(new GetObjectCommand({ Bucket, Key: 'race/cas' }))).Body!.transformToString();
      assert.equal(stored, bodies[winners[0][1]].toString());
    }
  });

  test('CompleteMultipartUpload with If-None-Match and If-Match', async () => {
    const complete = async (Key: string, cond: { IfNoneMatch?: string; IfMatch?: string }) => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const part = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'part' }));
      return outcome(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] }, ...cond })));
    };
    assert.equal(await complete('c/mpu', { IfNoneMatch: '*' }), 200);
    assert.equal(await complete('c/mpu', { IfNoneMatch: '*' }), 412);
    assert.equal(await complete('c/mpu', { IfMatch: '"nope"' }), 412);
    const { ETag } = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/mpu' }));
    assert.equal(await complete('c/mpu', { IfMatch: ETag }), 200);
  });

  test('conditional deletes: If-Match, last-modified time and size; DeleteObjects per object', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'c/del', Body: 'twelve bytes' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/del' }));
    assert.equal(await outcome(s3.send(new DeleteObjectCommand({ Bucket, Key: 'c/del', IfMatch: '"other"' }))), 412);
    assert.equal(await outcome(s3.send(new DeleteObjectCommand({ Bucket, Key: 'c/del', IfMatchSize: 5 }))), 412);
    assert.equal(await outcome(s3.send(new DeleteObjectCommand({ Bucket, Key: 'c/del', IfMatchLastModifiedTime: new Date(0) }))), 412);
    assert.equal(await outcome(s3.send(new HeadObjectCommand({ Bucket, Key: 'c/del' }))), 200, 'still there');
    assert.equal(await outcome(s3.send(new DeleteObjectCommand({ Bucket, Key: 'c/del', IfMatch: head.ETag, IfMatchSize: 12, IfMatchLastModifiedTime: head.LastModified }))), 200);
    assert.equal(await outcome(s3.send(new HeadObjectCommand({ Bucket, Key: 'c/del' }))), 404);

    await s3.send(new PutObjectCommand({ Bucket, Key: 'c/d1', Body: 'a' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'c/d2', Body: 'b' }));
    const e1 = (await s3.send(new HeadObjectCommand({ Bucket, Key: 'c/d1' }))).ETag;
    const out = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'c/d1', ETag: e1 }, { Key: 'c/d2', ETag: '"wrong"' }] } }));
    assert.deepEqual(out.Deleted?.map((d) => d.Key), ['c/d1']);
    assert.deepEqual(out.Errors?.map((e) => [e.Key, e.Code]), [['c/d2', 'PreconditionFailed']]);
  });
});
