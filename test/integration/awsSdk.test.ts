// @aws-sdk/client-s3 (current version, default checksum settings: stream bodies go as aws-chunked
// with a trailing CRC32) against a real worker over loopback. Each expectation is S3's behaviour.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketAclCommand,
  GetBucketCorsCommand, GetBucketLocationCommand, GetBucketPolicyCommand, GetBucketVersioningCommand,
  GetObjectAclCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand,
  ListObjectsCommand, ListObjectsV2Command, ListObjectVersionsCommand, PutObjectAclCommand, PutObjectCommand,
  S3Client, S3ServiceException, type ListObjectsV2CommandOutput, type ListObjectsCommandOutput, type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const T = { timeout: 60_000 };
const Bucket = 'data';
const USER = 'testuser';

const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const sha256b64 = (b: Buffer) => createHash('sha256').update(b).digest('base64');
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out.toString('base64');
};
/** S3 order: UTF-8 bytes. */
const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

async function bodyOf(out: { Body?: unknown }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of out.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function s3Error(p: Promise<unknown>): Promise<{ code: string; status?: number; message?: string }> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, `expected an S3 error response, got ${String(e)}`);
    return { code: e.name, status: e.$metadata.httpStatusCode, message: e.message };
  }
  assert.fail(`expected the request to fail, it succeeded: ${JSON.stringify((result as { $metadata?: unknown })?.$metadata)}`);
}

/** Decodes a key from an `encoding-type=url` listing (S3 may use `+` or `%20` for a space). */
const urlDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));

describe('AWS SDK for JavaScript v3', { timeout: 600_000 }, () => {
  let w: RunningWorker;
  let s3: S3Client;
  const sent: Array<{ path: string; headers: Record<string, string> }> = [];
  const lastSent = () => sent[sent.length - 1];

  const put = (Key: string, Body: PutObjectCommandInput['Body'] = `body of ${Key}`, extra: Record<string, unknown> = {}) =>
    s3.send(new PutObjectCommand({ Bucket, Key, Body, ...extra }));

  async function listAllV2(params: { Prefix?: string; Delimiter?: string; MaxKeys?: number; StartAfter?: string }) {
    const keys: string[] = [];
    const prefixes: string[] = [];
    const pages: ListObjectsV2CommandOutput[] = [];
    let token: string | undefined;
    for (let i = 0; i < 1000; i++) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, ...params, ContinuationToken: token }));
      pages.push(page);
      if (params.MaxKeys !== undefined) {
        assert.ok((page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0) <= params.MaxKeys, 'a page holds at most MaxKeys entries');
        assert.equal(page.MaxKeys, params.MaxKeys);
      }
      assert.equal(page.KeyCount, (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0), 'KeyCount counts keys and common prefixes');
      keys.push(...(page.Contents ?? []).map((c) => c.Key!));
      prefixes.push(...(page.CommonPrefixes ?? []).map((c) => c.Prefix!));
      if (!page.IsTruncated) {
        assert.equal(page.NextContinuationToken, undefined, 'no NextContinuationToken on the last page');
        return { keys, prefixes, pages };
      }
      assert.ok(page.NextContinuationToken, 'a truncated page carries NextContinuationToken');
      assert.notEqual(page.NextContinuationToken, token, 'the token moves on');
      token = page.NextContinuationToken;
    }
    assert.fail('listing never ended');
  }

  before(async () => {
    w = await startWorker();
    s3 = new S3Client({
      endpoint: w.s3Url,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: USER, secretAccessKey: 'testpassword' },
      maxAttempts: 1,
    });
    // Records what went on the wire, so the tests can check they exercise what they claim.
    s3.middlewareStack.add((next) => async (args) => {
      const req = args.request as { path: string; headers: Record<string, string> };
      sent.push({ path: req.path, headers: { ...req.headers } });
      return next(args);
    }, { step: 'deserialize', name: 'recordSent' });
  });
  after(async () => {
    s3?.destroy();
    await w?.stop();
  });

  // ---------------------------------------------------------------- buckets

  test('ListBuckets shows the embedded bucket "data"', T, async () => {
    const out = await s3.send(new ListBucketsCommand({}));
    assert.ok(out.Buckets?.some((b) => b.Name === 'data'), JSON.stringify(out.Buckets));
    assert.ok(out.Owner?.ID || out.Owner?.DisplayName, 'ListBuckets names an owner');
  });

  test('CreateBucket, HeadBucket, DeleteBucket', T, async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-one' }));
    assert.ok(existsSync(join(w.rootUfs, 'sdk-one')), 'CreateBucket made a folder under the root folder');
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'sdk-one' }));
    assert.equal(head.$metadata.httpStatusCode, 200);
    assert.ok((await s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'sdk-one'));
    const del = await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-one' }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const gone = await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'sdk-one' })));
    assert.equal(gone.status, 404);
    assert.ok(!(await s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'sdk-one'));
  });

  test('CreateBucket twice: us-east-1 answers 200 and keeps the bucket as it is; another user gets BucketAlreadyExists', T, async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-twice' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-twice', Key: 'kept', Body: 'still here' }));
    const again = await s3.send(new CreateBucketCommand({ Bucket: 'sdk-twice' }));
    assert.equal(again.$metadata.httpStatusCode, 200);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'sdk-twice', Key: 'kept' })))).toString(), 'still here');
    const other = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'someone-else', secretAccessKey: 'x' }, maxAttempts: 1 });
    const e = await s3Error(other.send(new CreateBucketCommand({ Bucket: 'sdk-twice' })));
    other.destroy();
    assert.deepEqual([e.code, e.status], ['BucketAlreadyExists', 409]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-twice', Key: 'kept' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-twice' }));
  });

  test('ExpectedBucketOwner (and the copy source\'s) must name the bucket\'s owner, else AccessDenied', T, async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-owned' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-owned', Key: 'k', Body: 'v', ExpectedBucketOwner: USER }));
    const refused = await s3Error(s3.send(new PutObjectCommand({ Bucket: 'sdk-owned', Key: 'k2', Body: 'v', ExpectedBucketOwner: '111122223333' })));
    assert.deepEqual([refused.code, refused.status], ['AccessDenied', 403]);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket: 'sdk-owned', Key: 'k2' })))).status, 404, 'nothing written');
    assert.equal((await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'sdk-owned', ExpectedBucketOwner: '111122223333' })))).code, 'AccessDenied');
    await s3.send(new CopyObjectCommand({ Bucket: 'sdk-owned', Key: 'copy', CopySource: 'sdk-owned/k', ExpectedSourceBucketOwner: USER }));
    const badSource = await s3Error(s3.send(new CopyObjectCommand({ Bucket: 'sdk-owned', Key: 'copy2', CopySource: 'sdk-owned/k', ExpectedSourceBucketOwner: 'other' })));
    assert.equal(badSource.code, 'AccessDenied');
    for (const Key of ['k', 'copy']) await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-owned', Key }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-owned' }));
  });

  test('CreateBucket twice in another region -> BucketAlreadyOwnedByYou (409)', T, async () => {
    const eu = await startWorker({ conf: { 'strata.worker.s3.region': 'eu-west-1' } });
    const client = new S3Client({ endpoint: eu.s3Url, forcePathStyle: true, region: 'eu-west-1', credentials: { accessKeyId: USER, secretAccessKey: 'x' }, maxAttempts: 1 });
    try {
      await client.send(new CreateBucketCommand({ Bucket: 'eu-twice', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
      const e = await s3Error(client.send(new CreateBucketCommand({ Bucket: 'eu-twice', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
      assert.deepEqual([e.code, e.status], ['BucketAlreadyOwnedByYou', 409]);
    } finally {
      client.destroy();
      await eu.stop();
    }
  });

  test('CreateBucket with an invalid name -> InvalidBucketName (400)', T, async () => {
    for (const name of ['Bad_Name', 'ab', 'x'.repeat(64), '-leading', 'trailing-', 'two..dots', '192.168.1.1']) {
      const e = await s3Error(s3.send(new CreateBucketCommand({ Bucket: name })));
      assert.deepEqual([e.code, e.status], ['InvalidBucketName', 400], `bucket name ${JSON.stringify(name)}`);
      assert.ok(!existsSync(join(w.rootUfs, name)), `no folder for ${name}`);
    }
  });

  test('DeleteBucket of a non-empty bucket -> BucketNotEmpty (409); empty again, it goes', T, async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-full' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-full', Key: 'k', Body: 'v' }));
    const e = await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'sdk-full' })));
    assert.deepEqual([e.code, e.status], ['BucketNotEmpty', 409]);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'sdk-full', Key: 'k' }))).Body!.transformToString(), 'v');
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-full', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-full' }));
    assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'sdk-full' })))).status, 404);
  });

  test('HeadBucket / ListObjectsV2 of a missing bucket -> 404 NoSuchBucket', T, async () => {
    assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })))).status, 404);
    const e = await s3Error(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })));
    assert.deepEqual([e.code, e.status], ['NoSuchBucket', 404]);
  });

  // ---------------------------------------------------------------- objects

  test('PutObject with a Buffer body: ContentType, Metadata, Tagging; GET byte-for-byte; ETag is the MD5', T, async () => {
    const buf = randomBytes(256 * 1024 + 3);
    const out = await put('obj/buffer.bin', buf, { ContentType: 'application/x-strata-test', Metadata: { color: 'blue', 'two-words': 'hello world' }, Tagging: 'team=storage&env=test' });
    assert.equal(out.ETag, `"${md5hex(buf)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'obj/buffer.bin' }));
    assert.equal(got.$metadata.httpStatusCode, 200);
    assert.equal(got.ETag, `"${md5hex(buf)}"`);
    assert.equal(got.ContentType, 'application/x-strata-test');
    assert.equal(got.ContentLength, buf.length);
    assert.deepEqual(got.Metadata, { color: 'blue', 'two-words': 'hello world' });
    assert.equal(got.TagCount, 2, 'x-amz-tagging-count');
    assert.ok(got.LastModified instanceof Date);
    assert.ok((await bodyOf(got)).equals(buf), 'same bytes back');
  });

  test('PutObject with a Readable stream body and ContentLength (aws-chunked + CRC32 trailer)', T, async () => {
    const data = randomBytes(2 * 1024 * 1024 + 12345);
    const parts = [data.subarray(0, 1), data.subarray(1, 70_000), data.subarray(70_000, 1_500_000), data.subarray(1_500_000)];
    const out = await put('obj/stream.bin', Readable.from(parts), { ContentLength: data.length, ContentType: 'application/octet-stream', Metadata: { origin: 'stream' } });
    const h = lastSent().headers;
    assert.match(h['content-encoding'] ?? '', /aws-chunked/, 'the SDK sent an aws-chunked body');
    assert.equal(h['x-amz-trailer'], 'x-amz-checksum-crc32', 'with a trailing CRC32');
    assert.equal(h['x-amz-decoded-content-length'], String(data.length));
    assert.equal(out.ETag, `"${md5hex(data)}"`, 'ETag is the MD5 of the decoded content, not of the chunked encoding');
    assert.equal(out.ChecksumCRC32, crc32b64(data), 'the CRC32 the SDK sent is echoed');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'obj/stream.bin' }));
    assert.equal(head.ContentLength, data.length);
    assert.deepEqual(head.Metadata, { origin: 'stream' });
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'obj/stream.bin' }));
    assert.ok((await bodyOf(got)).equals(data), 'same bytes back');
  });

  test('HeadObject returns ContentType, Metadata, ContentLength, ETag; missing key -> 404', T, async () => {
    await put('obj/head.txt', 'hello head', { ContentType: 'text/plain; charset=utf-8', Metadata: { k1: 'v1', k2: 'v2' } });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'obj/head.txt' }));
    assert.equal(head.ContentType, 'text/plain; charset=utf-8');
    assert.deepEqual(head.Metadata, { k1: 'v1', k2: 'v2' });
    assert.equal(head.ContentLength, 10);
    assert.equal(head.ETag, `"${md5hex('hello head')}"`);
    assert.equal(head.AcceptRanges, 'bytes');
    const e = await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'obj/missing.txt' })));
    assert.equal(e.status, 404);
    const g = await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'obj/missing.txt' })));
    assert.deepEqual([g.code, g.status], ['NoSuchKey', 404]);
  });

  test('Range reads: first-last, open, suffix -> 206 with Content-Range; unsatisfiable -> 416 InvalidRange', T, async () => {
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
    await put('obj/range.bin', data);
    const cases: Array<[string, number, number]> = [['bytes=0-9', 0, 9], ['bytes=10-', 10, 99], ['bytes=-5', 95, 99], ['bytes=90-500', 90, 99]];
    for (const [Range, first, last] of cases) {
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'obj/range.bin', Range }));
      assert.equal(got.$metadata.httpStatusCode, 206, Range);
      assert.equal(got.ContentRange, `bytes ${first}-${last}/100`, Range);
      assert.equal(got.ContentLength, last - first + 1, Range);
      assert.ok((await bodyOf(got)).equals(data.subarray(first, last + 1)), `bytes of ${Range}`);
    }
    const e = await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'obj/range.bin', Range: 'bytes=100-200' })));
    assert.deepEqual([e.code, e.status], ['InvalidRange', 416]);
  });

  test('GetObject response-* overrides (ResponseContentType, ...)', T, async () => {
    await put('obj/override.txt', 'override me', { ContentType: 'text/plain' });
    const got = await s3.send(new GetObjectCommand({
      Bucket, Key: 'obj/override.txt',
      ResponseContentType: 'application/x-overridden',
      ResponseContentDisposition: 'attachment; filename="x.txt"',
      ResponseCacheControl: 'no-cache',
      ResponseContentLanguage: 'fr',
    }));
    assert.equal(got.ContentType, 'application/x-overridden');
    assert.equal(got.ContentDisposition, 'attachment; filename="x.txt"');
    assert.equal(got.CacheControl, 'no-cache');
    assert.equal(got.ContentLanguage, 'fr');
    assert.equal(await got.Body!.transformToString(), 'override me');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'obj/override.txt' }))).ContentType, 'text/plain', 'the override is not stored');
  });

  test('ChecksumMode ENABLED returns the CRC32 the SDK sent (buffer and stream bodies)', T, async () => {
    const a = randomBytes(50_000);
    const outA = await put('obj/crc-a.bin', a);
    assert.equal(outA.ChecksumCRC32, crc32b64(a), 'the default checksum of a buffer upload is CRC32');
    const b = randomBytes(700_000);
    const outB = await put('obj/crc-b.bin', Readable.from([b]), { ContentLength: b.length });
    assert.equal(outB.ChecksumCRC32, crc32b64(b));
    for (const [Key, data] of [['obj/crc-a.bin', a], ['obj/crc-b.bin', b]] as const) {
      const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      assert.equal(got.ChecksumCRC32, crc32b64(data), `GET ${Key}`);
      assert.ok((await bodyOf(got)).equals(data));
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      assert.equal(head.ChecksumCRC32, crc32b64(data), `HEAD ${Key}`);
    }
  });

  test('ChecksumAlgorithm SHA256 upload round trip (buffer and stream)', T, async () => {
    const a = randomBytes(123_456);
    const outA = await put('obj/sha-a.bin', a, { ChecksumAlgorithm: 'SHA256' });
    assert.equal(outA.ChecksumSHA256, sha256b64(a));
    const b = randomBytes(1_000_001);
    const outB = await put('obj/sha-b.bin', Readable.from([b.subarray(0, 10), b.subarray(10)]), { ContentLength: b.length, ChecksumAlgorithm: 'SHA256' });
    assert.equal(outB.ChecksumSHA256, sha256b64(b));
    for (const [Key, data] of [['obj/sha-a.bin', a], ['obj/sha-b.bin', b]] as const) {
      const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      assert.equal(got.ChecksumSHA256, sha256b64(data), Key);
      assert.equal(got.ETag, `"${md5hex(data)}"`);
      assert.ok((await bodyOf(got)).equals(data));
    }
  });

  test('DeleteObject -> 204, also for a missing key', T, async () => {
    await put('obj/del.txt');
    const d1 = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'obj/del.txt' }));
    assert.equal(d1.$metadata.httpStatusCode, 204);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'obj/del.txt' })))).status, 404);
    const d2 = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'obj/del.txt' }));
    assert.equal(d2.$metadata.httpStatusCode, 204);
    const d3 = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'never/existed/at/all' }));
    assert.equal(d3.$metadata.httpStatusCode, 204);
  });

  test('DeleteObjects verbose lists every key (missing ones too); Quiet lists none', T, async () => {
    for (const k of ['mdel/1', 'mdel/2', 'mdel/sub/3']) await put(k);
    const verbose = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'mdel/1' }, { Key: 'mdel/sub/3' }, { Key: 'mdel/missing' }] } }));
    assert.deepEqual((verbose.Deleted ?? []).map((d) => d.Key).sort(), ['mdel/1', 'mdel/missing', 'mdel/sub/3']);
    assert.equal(verbose.Errors?.length ?? 0, 0, JSON.stringify(verbose.Errors));
    for (const k of ['mdel/q1', 'mdel/q2']) await put(k);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Quiet: true, Objects: [{ Key: 'mdel/q1' }, { Key: 'mdel/q2' }, { Key: 'mdel/2' }] } }));
    assert.equal(quiet.Deleted?.length ?? 0, 0, 'Quiet reports only errors');
    assert.equal(quiet.Errors?.length ?? 0, 0);
    const left = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'mdel/' }));
    assert.equal(left.KeyCount, 0, JSON.stringify(left.Contents?.map((c) => c.Key)));
  });

  // ---------------------------------------------------------------- listings

  test('ListObjectsV2 with prefix and delimiter', T, async () => {
    for (const k of ['lst/a.txt', 'lst/b/1', 'lst/b/2', 'lst/c/d/e', 'lst/z', 'lstx']) await put(k);
    const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'lst/', Delimiter: '/' }));
    assert.deepEqual(out.Contents?.map((c) => c.Key), ['lst/a.txt', 'lst/z']);
    assert.deepEqual(out.CommonPrefixes?.map((c) => c.Prefix), ['lst/b/', 'lst/c/']);
    assert.equal(out.KeyCount, 4);
    assert.equal(out.Prefix, 'lst/');
    assert.equal(out.Delimiter, '/');
    assert.equal(out.IsTruncated, false);
    assert.equal(out.Contents?.[0].Size, 'body of lst/a.txt'.length);
    assert.equal(out.Contents?.[0].ETag, `"${md5hex('body of lst/a.txt')}"`);
    assert.equal(out.Contents?.[0].Owner, undefined, 'no Owner without FetchOwner');
    const top = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'lst', Delimiter: '/' }));
    assert.deepEqual(top.CommonPrefixes?.map((c) => c.Prefix), ['lst/']);
    assert.deepEqual(top.Contents?.map((c) => c.Key), ['lstx']);
  });

  test('ListObjectsV2 paging with MaxKeys=2 sees every key exactly once, in order', T, async () => {
    const keys = ['page/a', 'page/b/1', 'page/b/2', 'page/b-c', 'page/c', 'page/d/e/f', 'page/e', 'page/z'];
    for (const k of keys) await put(k);
    const expected = [...keys].sort(byteOrder);
    const { keys: seen, pages } = await listAllV2({ Prefix: 'page/', MaxKeys: 2 });
    assert.deepEqual(seen, expected);
    assert.equal(pages.length, 4);
    // With a delimiter, common prefixes count towards MaxKeys and each appears once.
    const d = await listAllV2({ Prefix: 'page/', Delimiter: '/', MaxKeys: 2 });
    assert.deepEqual(d.keys, ['page/a', 'page/b-c', 'page/c', 'page/e', 'page/z']);
    assert.deepEqual(d.prefixes, ['page/b/', 'page/d/']);
    // MaxKeys=1 through a mixed listing.
    const one = await listAllV2({ Prefix: 'page/', Delimiter: '/', MaxKeys: 1 });
    assert.deepEqual([...one.keys, ...one.prefixes].sort(byteOrder), [...d.keys, ...d.prefixes].sort(byteOrder));
  });

  test('ListObjectsV2 StartAfter', T, async () => {
    for (const k of ['sa/1', 'sa/2', 'sa/3/x', 'sa/4']) await put(k);
    const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'sa/', StartAfter: 'sa/2' }));
    assert.deepEqual(out.Contents?.map((c) => c.Key), ['sa/3/x', 'sa/4']);
    assert.equal(out.StartAfter, 'sa/2');
    const between = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'sa/', StartAfter: 'sa/25' }));
    assert.deepEqual(between.Contents?.map((c) => c.Key), ['sa/3/x', 'sa/4'], 'StartAfter need not be an existing key');
    const paged = await listAllV2({ Prefix: 'sa/', StartAfter: 'sa/1', MaxKeys: 1 });
    assert.deepEqual(paged.keys, ['sa/2', 'sa/3/x', 'sa/4']);
  });

  test('ListObjectsV2 FetchOwner names the writer', T, async () => {
    await put('own/x');
    const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'own/', FetchOwner: true }));
    const owner = out.Contents?.[0].Owner;
    assert.ok(owner, 'Owner present with FetchOwner');
    assert.ok(owner.ID === USER || owner.DisplayName === USER, `owner is the access key that wrote it: ${JSON.stringify(owner)}`);
  });

  test('ListObjectsV2 and ListObjects with EncodingType url and a key with spaces', T, async () => {
    const key = 'enc/a key with spaces+plus&amp=é.txt';
    await put(key);
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'enc/', EncodingType: 'url' }));
    assert.equal(v2.EncodingType, 'url');
    const raw = v2.Contents?.[0].Key ?? '';
    assert.ok(!raw.includes(' '), `the key is URL-encoded: ${raw}`);
    assert.equal(urlDecode(raw), key);
    const plain = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'enc/' }));
    assert.equal(plain.Contents?.[0].Key, key);
    const withDelim = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'enc/', Delimiter: ' ', EncodingType: 'url' }));
    assert.deepEqual(withDelim.CommonPrefixes?.map((p) => urlDecode(p.Prefix!)), ['enc/a ']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'enc/', EncodingType: 'url' }));
    assert.equal(urlDecode(v1.Contents?.[0].Key ?? ''), key);
    assert.ok(!(v1.Contents?.[0].Key ?? ' ').includes(' '));
  });

  test('ListObjects (v1) paging with Marker; NextMarker with a delimiter', T, async () => {
    const keys = ['v1/a', 'v1/b', 'v1/c/1', 'v1/c/2', 'v1/d', 'v1/e'];
    for (const k of keys) await put(k);
    const seen: string[] = [];
    let Marker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page: ListObjectsCommandOutput = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'v1/', MaxKeys: 2, Marker }));
      assert.ok((page.Contents?.length ?? 0) <= 2);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      if (!page.IsTruncated) break;
      Marker = page.NextMarker ?? page.Contents!.at(-1)!.Key;
    }
    assert.deepEqual(seen, keys);
    const m = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'v1/', Marker: 'v1/c/1' }));
    assert.deepEqual(m.Contents?.map((c) => c.Key), ['v1/c/2', 'v1/d', 'v1/e']);
    assert.equal(m.Marker, 'v1/c/1');

    // With a delimiter, a truncated page carries NextMarker (possibly a common prefix).
    const entries: string[] = [];
    Marker = undefined;
    let pages = 0;
    for (; pages < 20; pages++) {
      const page: ListObjectsCommandOutput = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'v1/', Delimiter: '/', MaxKeys: 2, Marker }));
      entries.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      if (!page.IsTruncated) break;
      assert.ok(page.NextMarker, `a truncated delimited v1 page has NextMarker (page ${pages})`);
      Marker = page.NextMarker;
    }
    assert.deepEqual(entries.sort(byteOrder), ['v1/a', 'v1/b', 'v1/c/', 'v1/d', 'v1/e']);
    const afterPrefix = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'v1/', Delimiter: '/', MaxKeys: 3 }));
    assert.deepEqual(afterPrefix.Contents?.map((c) => c.Key), ['v1/a', 'v1/b']);
    assert.deepEqual(afterPrefix.CommonPrefixes?.map((p) => p.Prefix), ['v1/c/']);
    assert.equal(afterPrefix.IsTruncated, true);
    assert.equal(afterPrefix.NextMarker, 'v1/c/');
  });

  test('listing order is UTF-8 byte order across folders: a-b, a/c, a0', T, async () => {
    for (const k of ['ord/a0', 'ord/a/c', 'ord/a-b']) await put(k);
    const flat = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ord/' }));
    assert.deepEqual(flat.Contents?.map((c) => c.Key), ['ord/a-b', 'ord/a/c', 'ord/a0']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'ord/' }));
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['ord/a-b', 'ord/a/c', 'ord/a0']);
    const paged = await listAllV2({ Prefix: 'ord/', MaxKeys: 1 });
    assert.deepEqual(paged.keys, ['ord/a-b', 'ord/a/c', 'ord/a0']);
    const delim = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ord/', Delimiter: '/' }));
    assert.deepEqual(delim.Contents?.map((c) => c.Key), ['ord/a-b', 'ord/a0']);
    assert.deepEqual(delim.CommonPrefixes?.map((c) => c.Prefix), ['ord/a/']);
    const after = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ord/', StartAfter: 'ord/a-b' }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), ['ord/a/c', 'ord/a0']);
  });

  test('a delimiter other than "/" (here "-")', T, async () => {
    for (const k of ['dash/x-1', 'dash/x-2', 'dash/y', 'dash/sub/z-9', 'dash/w-a-b']) await put(k);
    const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'dash/', Delimiter: '-' }));
    assert.deepEqual(out.CommonPrefixes?.map((c) => c.Prefix), ['dash/sub/z-', 'dash/w-', 'dash/x-']);
    assert.deepEqual(out.Contents?.map((c) => c.Key), ['dash/y']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'dash/x', Delimiter: '-' }));
    assert.deepEqual(v1.CommonPrefixes?.map((c) => c.Prefix), ['dash/x-']);
  });

  test('folder objects: PutObject of "dir/" with an empty body lists as key "dir/", size 0', T, async () => {
    const out = await put('fold/dir/', '');
    assert.equal(out.ETag, `"${md5hex('')}"`);
    const inside = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fold/dir/' }));
    assert.deepEqual(inside.Contents?.map((c) => [c.Key, c.Size]), [['fold/dir/', 0]]);
    const above = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fold/', Delimiter: '/' }));
    assert.deepEqual(above.CommonPrefixes?.map((c) => c.Prefix), ['fold/dir/']);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'fold/dir/' }));
    assert.equal(head.ContentLength, 0);
    await put('fold/dir/child.txt', 'child');
    const both = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fold/dir/' }));
    assert.deepEqual(both.Contents?.map((c) => c.Key), ['fold/dir/', 'fold/dir/child.txt']);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'fold/dir/child.txt' }));
    const again = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fold/' }));
    assert.deepEqual(again.Contents?.map((c) => c.Key), ['fold/dir/'], 'the folder object outlives its child');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'fold/dir/' }));
    const none = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fold/' }));
    assert.equal(none.KeyCount, 0);
  });

  test('keys with spaces, unicode, %, +, &, = round trip through put, get and list', T, async () => {
    const keys = ['sp/with space.txt', 'données/日本語 ü.txt', 'sp/100%.txt', 'sp/a+b.txt', 'sp/a&b=c.txt', 'sp/%2F%20literal', 'sp/q?x=1#frag', "sp/quote'\"<>.txt"];
    for (const k of keys) {
      const body = `content of ${k}`;
      await put(k, body);
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: k }));
      assert.equal(await got.Body!.transformToString(), body, `GET ${k}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key: k }));
      assert.equal(head.ContentLength, Buffer.byteLength(body), `HEAD ${k}`);
    }
    const sp = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'sp/' }));
    assert.deepEqual(sp.Contents?.map((c) => c.Key), keys.filter((k) => k.startsWith('sp/')).sort(byteOrder));
    const fr = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'données/' }));
    assert.deepEqual(fr.Contents?.map((c) => c.Key), ['données/日本語 ü.txt']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'données/日本' }));
    assert.deepEqual(v1.Contents?.map((c) => c.Key), ['données/日本語 ü.txt']);
    const d = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.deepEqual((d.Deleted ?? []).map((x) => x.Key!).sort(byteOrder), [...keys].sort(byteOrder));
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'sp/' }))).KeyCount, 0);
  });

  test('listing order: byte order of space, +, ., /, digits, upper case and non-ASCII across levels', T, async () => {
    const keys = ['o2/a b', 'o2/a+b', 'o2/a.b', 'o2/a/b', 'o2/a/c', 'o2/a0', 'o2/aa', 'o2/a~', 'o2/B', 'o2/é', 'o2/z', 'o2/日'];
    for (const k of [...keys].reverse()) await put(k);
    const expected = [...keys].sort(byteOrder);
    assert.deepEqual((await listAllV2({ Prefix: 'o2/' })).keys, expected);
    assert.deepEqual((await listAllV2({ Prefix: 'o2/', MaxKeys: 3 })).keys, expected);
    const partial = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'o2/a' }));
    assert.deepEqual(partial.Contents?.map((c) => c.Key), expected.filter((k) => k.startsWith('o2/a')), 'a prefix that ends mid-name');
    const d = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'o2/a', Delimiter: '/' }));
    assert.deepEqual(d.CommonPrefixes?.map((c) => c.Prefix), ['o2/a/']);
    assert.deepEqual(d.Contents?.map((c) => c.Key), ['o2/a b', 'o2/a+b', 'o2/a.b', 'o2/a0', 'o2/aa', 'o2/a~']);
  });

  test('ListObjectsV2 echoes ContinuationToken; EncodingType url encodes Prefix, Delimiter and StartAfter too', T, async () => {
    for (const k of ['echo/one', 'echo/two', 'echo/three']) await put(k);
    const p1 = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'echo/', MaxKeys: 1 }));
    assert.ok(p1.NextContinuationToken);
    const p2 = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'echo/', MaxKeys: 1, ContinuationToken: p1.NextContinuationToken }));
    assert.equal(p2.ContinuationToken, p1.NextContinuationToken);
    await put('enc2/a key/x y');
    const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'enc2/a key', Delimiter: '/', StartAfter: 'enc2/a ', EncodingType: 'url' }));
    assert.ok(!(out.Prefix ?? ' ').includes(' '), `Prefix is encoded: ${out.Prefix}`);
    assert.equal(urlDecode(out.Prefix ?? ''), 'enc2/a key');
    assert.ok(!(out.StartAfter ?? ' ').includes(' '), `StartAfter is encoded: ${out.StartAfter}`);
    assert.equal(urlDecode(out.StartAfter ?? ''), 'enc2/a ');
    const cp = out.CommonPrefixes?.map((c) => c.Prefix ?? '') ?? [];
    assert.ok(cp.every((p) => !p.includes(' ')), `CommonPrefixes are encoded: ${cp.join(', ')}`);
    assert.deepEqual(cp.map(urlDecode), ['enc2/a key/']);
  });

  test('Range edge cases: suffix longer than the object, open range from the last byte, empty object', T, async () => {
    const data = Buffer.from('0123456789'.repeat(10));
    await put('rng/obj', data);
    const whole = await s3.send(new GetObjectCommand({ Bucket, Key: 'rng/obj', Range: 'bytes=-200' }));
    assert.equal(whole.$metadata.httpStatusCode, 206);
    assert.equal(whole.ContentRange, 'bytes 0-99/100');
    assert.ok((await bodyOf(whole)).equals(data));
    const last = await s3.send(new GetObjectCommand({ Bucket, Key: 'rng/obj', Range: 'bytes=99-' }));
    assert.equal(last.ContentRange, 'bytes 99-99/100');
    assert.equal((await bodyOf(last)).toString(), '9');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'rng/obj', Range: 'bytes=0-9' }));
    assert.equal(head.$metadata.httpStatusCode, 206, 'HEAD honours Range');
    assert.equal(head.ContentLength, 10);
    assert.equal(head.ContentRange, 'bytes 0-9/100');
    await put('rng/empty', '');
    const e = await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'rng/empty', Range: 'bytes=0-0' })));
    assert.deepEqual([e.code, e.status], ['InvalidRange', 416]);
    const plain = await s3.send(new GetObjectCommand({ Bucket, Key: 'rng/empty' }));
    assert.equal(plain.ContentLength, 0);
    assert.equal((await bodyOf(plain)).length, 0);
  });

  test('implicit folders are not objects: HEAD/GET of "x" or "x/" when only "x/y" exists -> 404', T, async () => {
    await put('impl/x/y', 'child');
    for (const Key of ['impl/x', 'impl/x/']) {
      assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key })))).status, 404, `HEAD ${Key}`);
      const g = await s3Error(s3.send(new GetObjectCommand({ Bucket, Key })));
      assert.deepEqual([g.code, g.status], ['NoSuchKey', 404], `GET ${Key}`);
    }
    const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'impl/' }));
    assert.deepEqual(list.Contents?.map((c) => c.Key), ['impl/x/y'], 'the implicit folder is not listed as an object');
    // DeleteObject of the implicit folder name is a no-op that leaves the child alone.
    assert.equal((await s3.send(new DeleteObjectCommand({ Bucket, Key: 'impl/x/' }))).$metadata.httpStatusCode, 204);
    assert.equal((await s3.send(new DeleteObjectCommand({ Bucket, Key: 'impl/x' }))).$metadata.httpStatusCode, 204);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'impl/x/y' }))).Body!.transformToString(), 'child');
  });

  test('deleting a folder object keeps the keys below it; deleting the last key leaves no folder behind', T, async () => {
    await put('fo2/d/', '');
    await put('fo2/d/c', 'child');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'fo2/d/' }));
    const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fo2/' }));
    assert.deepEqual(list.Contents?.map((c) => c.Key), ['fo2/d/c'], 'only the folder marker went');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'fo2/d/c' }))).Body!.transformToString(), 'child');
    await put('fo3/deep/er/key', 'x');
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'fo3/deep/er/key' }));
    const none = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fo3/' }));
    assert.equal(none.KeyCount, 0, `nothing left: ${JSON.stringify(none.Contents?.map((c) => c.Key))}`);
    const noPrefix = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'fo3/', Delimiter: '/' }));
    assert.equal(noPrefix.CommonPrefixes?.length ?? 0, 0, 'no empty common prefix either');
  });

  test('an overwrite replaces content, type, metadata and tags', T, async () => {
    await put('ow/k', 'first version', { ContentType: 'text/one', Metadata: { a: '1', b: '2' }, Tagging: 'x=1' });
    await put('ow/k', 'second', { ContentType: 'text/two', Metadata: { c: '3' } });
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'ow/k' }));
    assert.equal(await got.Body!.transformToString(), 'second');
    assert.equal(got.ContentType, 'text/two');
    assert.deepEqual(got.Metadata, { c: '3' });
    assert.equal(got.TagCount, undefined, 'the old tags went with the old version');
    assert.equal(got.ETag, `"${md5hex('second')}"`);
  });

  test('a key longer than 1024 bytes -> KeyTooLongError (400); 1024 bytes in short segments is fine', T, async () => {
    const long = 'long/' + 'k'.repeat(1100);
    const e = await s3Error(put(long, 'x'));
    assert.deepEqual([e.code, e.status], ['KeyTooLongError', 400]);
    const ok = 'long/' + Array.from({ length: 102 }, () => 'abcdefghi').join('/') + 'x'.repeat(1024 - 5 - 102 * 10 + 1);
    assert.equal(Buffer.byteLength(ok), 1024);
    await put(ok, 'fits');
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: ok }))).Body!.transformToString(), 'fits');
  });

  // ---------------------------------------------------------------- reads tools make first

  test('GetBucketLocation, GetBucketVersioning, ListObjectVersions (VersionId null)', T, async () => {
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket }));
    assert.equal(loc.$metadata.httpStatusCode, 200);
    assert.ok([undefined, '', 'us-east-1'].includes(loc.LocationConstraint as string | undefined), String(loc.LocationConstraint));
    const ver = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    assert.equal(ver.$metadata.httpStatusCode, 200);
    assert.equal(ver.Status, undefined, 'never enabled');
    for (const k of ['vers/1', 'vers/2']) await put(k);
    const vs = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'vers/' }));
    assert.deepEqual(vs.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [['vers/1', 'null', true], ['vers/2', 'null', true]]);
    assert.equal(vs.Versions?.[0].ETag, `"${md5hex('body of vers/1')}"`);
    assert.equal(vs.DeleteMarkers?.length ?? 0, 0);
  });

  test('GetBucketAcl / GetObjectAcl: the owner with FULL_CONTROL; PutObjectAcl private is accepted', T, async () => {
    const bacl = await s3.send(new GetBucketAclCommand({ Bucket }));
    assert.ok(bacl.Owner?.ID, 'bucket ACL has an owner');
    assert.ok(bacl.Grants?.some((g) => g.Permission === 'FULL_CONTROL' && g.Grantee?.ID === bacl.Owner?.ID), JSON.stringify(bacl.Grants));
    await put('acl/obj');
    const oacl = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'acl/obj' }));
    assert.ok(oacl.Owner?.ID === USER || oacl.Owner?.DisplayName === USER, `object owner is the writer: ${JSON.stringify(oacl.Owner)}`);
    assert.ok(oacl.Grants?.some((g) => g.Permission === 'FULL_CONTROL' && g.Grantee?.ID === oacl.Owner?.ID), JSON.stringify(oacl.Grants));
    const p = await s3.send(new PutObjectAclCommand({ Bucket, Key: 'acl/obj', ACL: 'private' }));
    assert.equal(p.$metadata.httpStatusCode, 200);
    const missing = await s3Error(s3.send(new GetObjectAclCommand({ Bucket, Key: 'acl/missing' })));
    assert.deepEqual([missing.code, missing.status], ['NoSuchKey', 404]);
  });

  test('unsupported sub-resources answer NotImplemented (501)', T, async () => {
    for (const cmd of [new GetBucketPolicyCommand({ Bucket }), new GetBucketCorsCommand({ Bucket })]) {
      const e = await s3Error(s3.send(cmd as never));
      assert.deepEqual([e.code, e.status], ['NotImplemented', 501], cmd.constructor.name);
    }
  });

  // ---------------------------------------------------------------- keys and limits

  test('keys that try to leave the mount are refused with a 4xx and nothing is written outside', T, async () => {
    const before = new Set(readdirSync(w.rootUfs));
    const beforeWork = new Set(readdirSync(w.workDir));
    for (const Key of ['../x', 'a/../../x', '../../x', 'a//b', './x', 'a/./b', 'a/..', 'nul\u0000byte']) {
      const e = await s3Error(put(Key, 'escape attempt'));
      assert.ok(lastSent().path.startsWith('/data/'), lastSent().path);
      assert.ok(e.status !== undefined && e.status >= 400 && e.status < 500, `PUT ${JSON.stringify(Key)} -> ${e.status} ${e.code}`);
      const g = await s3Error(s3.send(new GetObjectCommand({ Bucket, Key })));
      assert.ok(g.status !== undefined && g.status >= 400 && g.status < 500, `GET ${JSON.stringify(Key)} -> ${g.status} ${g.code}`);
    }
    assert.ok(!existsSync(join(w.rootUfs, 'x')), 'nothing written beside the bucket folder');
    assert.ok(!existsSync(join(w.workDir, 'x')), 'nothing written above the root folder');
    assert.ok(!existsSync(join(w.rootUfs, 'data', 'x')), 'nothing written for ./x');
    assert.ok(!existsSync(join(w.rootUfs, 'data', 'a', 'b')), 'a//b did not become a/b');
    assert.deepEqual(new Set(readdirSync(w.rootUfs)), before);
    assert.deepEqual(new Set(readdirSync(w.workDir)), beforeWork);
  });

  test('the hidden metadata folder is never listed and cannot be written or read as keys', T, async () => {
    await put('hid/x', 'x');
    const all = await listAllV2({});
    assert.ok(!all.keys.some((k) => k.startsWith('.strata.sys')), `no hidden keys listed: ${all.keys.filter((k) => k.startsWith('.')).join(', ')}`);
    const top = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
    assert.ok(!(top.CommonPrefixes ?? []).some((p) => p.Prefix?.startsWith('.strata.sys')), JSON.stringify(top.CommonPrefixes));
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket, Prefix: '.strata.sys/' }))).KeyCount, 0);
    const e = await s3Error(put('.strata.sys/evil', 'x'));
    assert.ok(e.status !== undefined && e.status >= 400 && e.status < 500, `PUT into the hidden folder -> ${e.status} ${e.code}`);
    const hidden = readdirSync(join(w.rootUfs, 'data', '.strata.sys'));
    const g = await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: `.strata.sys/${hidden[0] ?? 'x'}` })));
    assert.ok(g.status !== undefined && g.status >= 400 && g.status < 500, `GET inside the hidden folder -> ${g.status} ${g.code}`);
    const d = await s3.send(new DeleteObjectCommand({ Bucket, Key: '.strata.sys/' })).catch((x: unknown) => x);
    assert.ok(existsSync(join(w.rootUfs, 'data', '.strata.sys')), `DeleteObject of the hidden folder did nothing (${String((d as Error).name ?? 'ok')})`);
  });

  test('an object and a folder of the same name conflict (409)', T, async () => {
    await put('conf/f', 'a file');
    const e = await s3Error(put('conf/f/g', 'below a file'));
    assert.equal(e.status, 409, `${e.code}: ${e.message}`);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'conf/f' }))).Body!.transformToString(), 'a file', 'the file is intact');
    await put('conf/d/g', 'inside a folder');
    const e2 = await s3Error(put('conf/d', 'a file over a folder'));
    assert.equal(e2.status, 409, `${e2.code}: ${e2.message}`);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'conf/d/g' }))).Body!.transformToString(), 'inside a folder');
    const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'conf/' }));
    assert.deepEqual(list.Contents?.map((c) => c.Key), ['conf/d/g', 'conf/f']);
  });

  test('user metadata over 2 KB -> MetadataTooLarge (400); just under is fine', T, async () => {
    const e = await s3Error(put('meta/big', 'x', { Metadata: { big: 'v'.repeat(2100) } }));
    assert.deepEqual([e.code, e.status], ['MetadataTooLarge', 400]);
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'meta/big' })))).status, 404, 'nothing written');
    await put('meta/ok', 'x', { Metadata: { ok: 'v'.repeat(1500) } });
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'meta/ok' }))).Metadata?.ok, 'v'.repeat(1500));
  });
});
