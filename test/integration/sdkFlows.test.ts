// The AWS SDK for JavaScript v3 (current, default checksum settings) through the gateway's flows.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetBucketAclCommand,
  GetBucketLocationCommand, GetBucketPolicyCommand, GetBucketVersioningCommand, GetObjectAclCommand, GetObjectCommand,
  HeadBucketCommand, HeadObjectCommand, ListBucketsCommand, ListObjectsCommand, ListObjectsV2Command,
  ListObjectVersionsCommand, PutObjectAclCommand, PutObjectCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { rawRequest } from '../helpers/http.js';
import { bodyOf, s3Error } from '../helpers/s3.js';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');


describe('AWS SDK v3 flows', { timeout: 180_000 }, () => {
  let w: RunningWorker;
  let s3: S3Client;
  const Bucket = 'data';

  before(async () => {
    w = await startWorker();
    s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'sdkuser', secretAccessKey: 'secret' } });
  });
  after(async () => {
    s3.destroy();
    await w.stop();
  });

  test('buckets: list, create, head, delete, and their errors', async () => {
    assert.ok((await s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'data'));
    await s3.send(new CreateBucketCommand({ Bucket: 'sdk-bucket' }));
    // us-east-1's rule: creating a bucket you already own again succeeds.
    assert.equal((await s3.send(new CreateBucketCommand({ Bucket: 'sdk-bucket' }))).$metadata.httpStatusCode, 200);
    assert.equal((await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).code, 'InvalidBucketName');
    await s3.send(new HeadBucketCommand({ Bucket: 'sdk-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sdk-bucket', Key: 'k', Body: 'v' }));
    assert.equal((await s3Error(s3.send(new DeleteBucketCommand({ Bucket: 'sdk-bucket' })))).code, 'BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: 'sdk-bucket', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'sdk-bucket' }));
    assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'sdk-bucket' })))).status, 404);
    assert.ok(!existsSync(join(w.rootUfs, 'sdk-bucket')));
  });

  test('ListBuckets pages with max-buckets and continuation tokens, and filters by prefix', async () => {
    const made = ['lb-c', 'lb-a', 'lb-b'];
    for (const Bucket of made) await s3.send(new CreateBucketCommand({ Bucket }));
    try {
      const names: string[] = [];
      let ContinuationToken: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await s3.send(new ListBucketsCommand({ Prefix: 'lb-', MaxBuckets: 2, ContinuationToken }));
        assert.ok((page.Buckets?.length ?? 0) <= 2);
        names.push(...(page.Buckets ?? []).map((b) => b.Name!));
        assert.equal(page.Prefix, 'lb-');
        ContinuationToken = page.ContinuationToken;
        if (!ContinuationToken) break;
      }
      assert.deepEqual(names, ['lb-a', 'lb-b', 'lb-c']);
      const all = (await s3.send(new ListBucketsCommand({}))).Buckets!.map((b) => b.Name!);
      assert.deepEqual(all, [...all].sort(), 'in name order');
      assert.ok(all.includes('data') && all.includes('lb-b'));
      assert.equal((await s3Error(s3.send(new ListBucketsCommand({ MaxBuckets: 0 })))).code, 'InvalidArgument');
    } finally {
      for (const Bucket of made) await s3.send(new DeleteBucketCommand({ Bucket }));
    }
  });

  test('put with a buffer and with a stream body (aws-chunked, CRC32 trailer), get them back', async () => {
    const buf = randomBytes(300_000);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'sdk/buffer.bin', Body: buf, ContentType: 'application/x-buf', Metadata: { a: '1', 'long-name': 'x y' }, Tagging: 'k=v' }));
    assert.equal(put.ETag, `"${md5(buf)}"`);
    const streamed = randomBytes(3 * 1024 * 1024 + 17);
    const put2 = await s3.send(new PutObjectCommand({ Bucket, Key: 'sdk/stream.bin', Body: Readable.from([streamed.subarray(0, 1000), streamed.subarray(1000)]), ContentLength: streamed.length }));
    assert.equal(put2.ETag, `"${md5(streamed)}"`);
    assert.ok(put2.ChecksumCRC32, 'the SDK sent a CRC32 and the worker echoed it');

    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/buffer.bin' }));
    assert.equal(got.ContentType, 'application/x-buf');
    assert.deepEqual(got.Metadata, { a: '1', 'long-name': 'x y' });
    assert.equal(got.TagCount, 1);
    assert.equal(got.ETag, put.ETag);
    assert.ok((await bodyOf(got)).equals(buf));
    const got2 = await s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/stream.bin', ChecksumMode: 'ENABLED' }));
    assert.equal(got2.ChecksumCRC32, put2.ChecksumCRC32);
    assert.ok((await bodyOf(got2)).equals(streamed));

    const sha = await s3.send(new PutObjectCommand({ Bucket, Key: 'sdk/sha.bin', Body: 'checksummed', ChecksumAlgorithm: 'SHA256' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'sdk/sha.bin', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumSHA256, sha.ChecksumSHA256);
    assert.equal(head.ContentLength, 11);
  });

  test('ranges and response overrides', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'sdk/range', Body: '0123456789abcdef' }));
    const r = async (Range: string) => {
      const out = await s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/range', Range }));
      return [out.ContentRange, (await bodyOf(out)).toString()];
    };
    assert.deepEqual(await r('bytes=0-9'), ['bytes 0-9/16', '0123456789']);
    assert.deepEqual(await r('bytes=10-'), ['bytes 10-15/16', 'abcdef']);
    assert.deepEqual(await r('bytes=-5'), ['bytes 11-15/16', 'bcdef']);
    assert.deepEqual(await r('bytes=14-100'), ['bytes 14-15/16', 'ef']);
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/range', Range: 'bytes=16-' })))).code, 'InvalidRange');
    const o = await s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/range', ResponseContentType: 'text/x-override', ResponseContentDisposition: 'attachment; filename="r.txt"', ResponseCacheControl: 'no-cache' }));
    assert.equal(o.ContentType, 'text/x-override');
    assert.equal(o.ContentDisposition, 'attachment; filename="r.txt"');
    assert.equal(o.CacheControl, 'no-cache');
  });

  test('GetObject and HeadObject of one part (?partNumber): a ranged answer with the parts count', async () => {
    const parts = [randomBytes(5 * 1024 * 1024), randomBytes(5 * 1024 * 1024 + 7), randomBytes(100)];
    const Key = 'sdk/parts';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const done = [];
    for (const [i, Body] of parts.entries()) done.push({ PartNumber: i + 1, ETag: (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag });
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }));
    let start = 0;
    for (const [i, bytes] of parts.entries()) {
      const got = await s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: i + 1 }));
      assert.equal(got.$metadata.httpStatusCode, 206);
      assert.equal(got.PartsCount, 3);
      assert.equal(got.ContentRange, `bytes ${start}-${start + bytes.length - 1}/10485867`);
      assert.ok((await bodyOf(got)).equals(bytes), `part ${i + 1}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, PartNumber: i + 1 }));
      assert.equal(head.ContentLength, bytes.length);
      assert.equal(head.PartsCount, 3);
      start += bytes.length;
    }
    assert.deepEqual(await s3Error(s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 4 }))), { code: 'InvalidPartNumber', status: 416 });
    // Without partNumber: the whole object, and no parts count (S3 sends it only for a part).
    const whole = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    assert.equal(whole.ContentLength, 10485867);
    assert.equal(whole.PartsCount, undefined);
    // An object written in one PUT is its own single part (and, not uploaded in parts, has no parts count).
    await s3.send(new PutObjectCommand({ Bucket, Key: 'sdk/one-part', Body: 'hello parts' }));
    const one = await s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/one-part', PartNumber: 1 }));
    assert.equal(one.PartsCount, undefined);
    assert.equal(one.ContentRange, 'bytes 0-10/11');
    assert.equal((await bodyOf(one)).toString(), 'hello parts');
    assert.deepEqual(await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/one-part', PartNumber: 2 }))), { code: 'InvalidPartNumber', status: 416 });
    // Bad part numbers, and a Range beside one.
    const auth = { authorization: 'AWS4-HMAC-SHA256 Credential=sdkuser/20250101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0' };
    for (const n of ['0', '10001', 'abc', '-1', '1.5']) {
      const a = await rawRequest(w.s3Port, 'GET', `/data/sdk/one-part?partNumber=${n}`, undefined, auth);
      assert.equal(a.status, 400, n);
      assert.match(a.body, /<Code>InvalidArgument<\/Code>/, n);
    }
    const both = await rawRequest(w.s3Port, 'GET', '/data/sdk/one-part?partNumber=1', undefined, { ...auth, range: 'bytes=0-1' });
    assert.equal(both.status, 400);
    assert.match(both.body, /<Code>InvalidRequest<\/Code>/);
  });

  test('the conditions are judged before the range: 412 and 304 rather than 416', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'sdk/cond-range', Body: 'eleven byte' }));
    const range = 'bytes=100-200';
    assert.deepEqual(await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/cond-range', Range: range, IfMatch: '"0000"' }))), { code: 'PreconditionFailed', status: 412 });
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/cond-range', Range: range, IfNoneMatch: put.ETag })))).status, 304);
    assert.deepEqual(await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'sdk/cond-range', Range: range, IfMatch: put.ETag }))), { code: 'InvalidRange', status: 416 });
  });

  test('deletes: missing keys are fine, DeleteObjects verbose and quiet', async () => {
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'sdk/never-existed' }));
    for (const k of ['d/1', 'd/2', 'd/3']) await s3.send(new PutObjectCommand({ Bucket, Key: k, Body: k }));
    const verbose = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'd/1' }, { Key: 'd/missing' }] } }));
    assert.deepEqual(verbose.Deleted?.map((d) => d.Key).sort(), ['d/1', 'd/missing']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Quiet: true, Objects: [{ Key: 'd/2' }, { Key: 'd/3' }] } }));
    assert.equal(quiet.Deleted?.length ?? 0, 0);
    assert.equal(quiet.Errors?.length ?? 0, 0);
    assert.equal((await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'd/' }))).KeyCount, 0);
  });

  test('listings: S3 order across folders, paging, delimiters, encoding, owners', async () => {
    const keys = ['ls/a-b', 'ls/a/c', 'ls/a0', 'ls/b/x/y', 'ls/b/z', 'ls/c d', 'ls/e+f&g=h%i', 'ls/données/日本語 ü.txt'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const all = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ls/' }));
    assert.deepEqual(all.Contents?.map((c) => c.Key), sorted);
    assert.deepEqual(sorted.slice(0, 3), ['ls/a-b', 'ls/a/c', 'ls/a0']);

    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ls/', MaxKeys: 2, ContinuationToken }));
      assert.ok((page.KeyCount ?? 0) <= 2);
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken);
    assert.deepEqual(seen, sorted);

    const rolled = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ls/', Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['ls/a/', 'ls/b/', 'ls/données/']);
    assert.deepEqual(rolled.Contents?.map((c) => c.Key), ['ls/a-b', 'ls/a0', 'ls/c d', 'ls/e+f&g=h%i']);
    const dash = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ls/', Delimiter: '-' }));
    assert.deepEqual(dash.CommonPrefixes?.map((p) => p.Prefix), ['ls/a-']);

    const after = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ls/', StartAfter: 'ls/b/z', FetchOwner: true }));
    assert.deepEqual(after.Contents?.map((c) => c.Key), sorted.slice(sorted.indexOf('ls/b/z') + 1));
    assert.equal(after.Contents?.[0].Owner?.DisplayName, 'sdkuser');

    const encoded = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'ls/c', EncodingType: 'url' }));
    // The JavaScript SDK hands url-encoded keys over as they came (boto3 decodes them).
    assert.deepEqual(encoded.Contents?.map((c) => c.Key), ['ls/c%20d']);
    assert.equal(encoded.EncodingType, 'url');

    const v1: string[] = [];
    let Marker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'ls/', Delimiter: '/', MaxKeys: 2, Marker }));
      v1.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      if (!page.IsTruncated) break;
      Marker = page.NextMarker;
    }
    assert.deepEqual(v1.sort(), ['ls/a-b', 'ls/a/', 'ls/a0', 'ls/b/', 'ls/c d', 'ls/données/', 'ls/e+f&g=h%i'].sort());

    for (const Key of keys) {
      const body = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key })));
      assert.equal(body.toString(), Key, `round trip of ${Key}`);
    }
  });

  test('folder objects', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'folders/empty/', Body: '' }));
    const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'folders/' }));
    assert.deepEqual(list.Contents?.map((c) => [c.Key, c.Size]), [['folders/empty/', 0]]);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'folders/empty/inside', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'folders/empty/inside' }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'folders/empty/' }))).ContentLength, 0);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'folders/implicit/child', Body: 'x' }));
    const implicit = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'folders/implicit' }));
    assert.deepEqual(implicit.Contents?.map((c) => c.Key), ['folders/implicit/child'], 'a parent made for a key is not an object');
  });

  test('the reads tools make before they act', async () => {
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket }));
    assert.equal(String(loc.LocationConstraint ?? ''), '', 'us-east-1 is an empty LocationConstraint');
    const ver = await s3.send(new GetBucketVersioningCommand({ Bucket }));
    assert.equal(ver.Status, undefined);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'v/one', Body: '1' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'v/' }));
    assert.deepEqual(versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest]), [['v/one', 'null', true]]);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'v/two', Body: '2' }));
    const paged = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'v/', MaxKeys: 1 }));
    assert.deepEqual([paged.NextKeyMarker, paged.NextVersionIdMarker], ['v/one', 'null']);
    const next = await s3.send(new ListObjectVersionsCommand({ Bucket, Prefix: 'v/', KeyMarker: paged.NextKeyMarker, VersionIdMarker: paged.NextVersionIdMarker }));
    assert.deepEqual(next.Versions?.map((v) => v.Key), ['v/two']);
    assert.equal((await s3Error(s3.send(new ListObjectVersionsCommand({ Bucket, VersionIdMarker: 'null' })))).code, 'InvalidArgument', 'a version-id marker needs a key marker');
    assert.equal((await s3Error(s3.send(new ListObjectVersionsCommand({ Bucket, KeyMarker: 'v/one', VersionIdMarker: 'abc' })))).code, 'InvalidArgument', 'only "null" exists');
    const bucketAcl = await s3.send(new GetBucketAclCommand({ Bucket }));
    assert.equal(bucketAcl.Grants?.[0].Permission, 'FULL_CONTROL');
    const objectAcl = await s3.send(new GetObjectAclCommand({ Bucket, Key: 'v/one' }));
    assert.equal(objectAcl.Owner?.ID, 'sdkuser');
    await s3.send(new PutObjectAclCommand({ Bucket, Key: 'v/one', ACL: 'private' }));
    assert.equal((await s3Error(s3.send(new PutObjectAclCommand({ Bucket, Key: 'v/one', ACL: 'public-read' })))).status, 501);
    assert.equal((await s3Error(s3.send(new GetBucketPolicyCommand({ Bucket })))).status, 501);
  });

  test('keys are kept inside the mount; object/folder conflicts; metadata limit', async () => {
    for (const Key of ['../escape', 'a/../../escape', 'a//b', './x']) {
      const e = await s3Error(s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' })));
      assert.ok(e.status! >= 400 && e.status! < 500, `${Key}: ${e.status}`);
    }
    assert.ok(!existsSync(join(w.rootUfs, 'escape')) && !existsSync(join(w.workDir, 'escape')));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'conflict/f', Body: 'file' }));
    assert.equal((await s3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'conflict/f/g', Body: 'x' })))).status, 409);
    assert.equal((await s3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'conflict', Body: 'x' })))).status, 409);
    const big = await s3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'meta', Body: 'x', Metadata: { big: 'x'.repeat(2100) } })));
    assert.deepEqual(big, { code: 'MetadataTooLarge', status: 400 });
  });
});
