// Multipart uploads, CopyObject and tagging through the AWS SDK v3 against a real worker.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand,
  DeleteBucketTaggingCommand, DeleteObjectTaggingCommand, GetBucketTaggingCommand, GetObjectCommand,
  GetObjectTaggingCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, ListPartsCommand,
  PutBucketTaggingCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client, UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bodyOf, s3Error } from '../helpers/s3.js';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const MiB = 1024 * 1024;
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');


/** The S3 multipart ETag of a body cut into parts of `partSize`. */
function expectedMultipartEtag(body: Buffer, partSize: number): string {
  const h = createHash('md5');
  let n = 0;
  for (let off = 0; off < body.length; off += partSize) {
    h.update(createHash('md5').update(body.subarray(off, off + partSize)).digest());
    n++;
  }
  return `"${h.digest('hex')}-${n}"`;
}

describe('multipart uploads, copy and tagging (AWS SDK v3)', { timeout: 300_000 }, () => {
  let w: RunningWorker;
  let s3: S3Client;
  const Bucket = 'data';

  before(async () => {
    w = await startWorker({ conf: { 'strata.worker.s3.multipart.upload.timeout': '1day' } });
    s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'testuser', secretAccessKey: 'testpassword' } });
  });
  after(async () => {
    s3.destroy();
    await w.stop();
  });

  test('lib-storage: a 64 MiB upload in 5 MiB parts, 4 at a time, byte for byte with the S3 ETag', async () => {
    const body = randomBytes(64 * MiB);
    const upload = new Upload({ client: s3, params: { Bucket, Key: 'big/64mib.bin', Body: Readable.from([body]), ContentType: 'application/x-test' }, partSize: 5 * MiB, queueSize: 4 });
    const result = await upload.done();
    assert.equal(result.ETag, expectedMultipartEtag(body, 5 * MiB));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'big/64mib.bin' }));
    assert.equal(got.ContentType, 'application/x-test');
    assert.equal(got.ETag, result.ETag);
    assert.equal(md5(await bodyOf(got)), md5(body));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'big/64mib.bin' }));
    assert.equal(head.ContentLength, body.length);
  });

  test('parts: replaced part keeps the last, ListParts paging, invisible until Complete', async () => {
    const Key = 'mpu/paged.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, Metadata: { color: 'blue' }, Tagging: 'a=1&b=2' }));
    const parts: Buffer[] = [];
    const etags: string[] = [];
    for (let n = 1; n <= 3; n++) {
      const b = randomBytes(n < 3 ? 5 * MiB : 1234);
      parts.push(b);
      etags.push((await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: b }))).ETag!);
    }
    // Part 2 again: the last upload wins.
    parts[1] = randomBytes(5 * MiB);
    etags[1] = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: parts[1] }))).ETag!;
    assert.equal(etags[1], `"${md5(parts[1])}"`);

    const page1 = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 2 }));
    assert.deepEqual(page1.Parts?.map((p) => p.PartNumber), [1, 2]);
    assert.equal(page1.IsTruncated, true);
    const page2 = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId, MaxParts: 2, PartNumberMarker: page1.NextPartNumberMarker }));
    assert.deepEqual(page2.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]), [[3, 1234, etags[2]]]);
    assert.equal(page2.IsTruncated, false);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'mpu/' }));
    assert.equal(listed.KeyCount, 0, 'an upload in progress is not an object');
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key })))).status, 404);

    const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const whole = Buffer.concat(parts);
    assert.equal(done.ETag, `"${createHash('md5').update(Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()))).digest('hex')}-3"`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    assert.equal(got.Metadata?.color, 'blue');
    assert.equal(got.TagCount, 2);
    assert.equal(md5(await bodyOf(got)), md5(whole));
    // Finished: the upload id is gone.
    assert.equal((await s3Error(s3.send(new ListPartsCommand({ Bucket, Key, UploadId })))).code, 'NoSuchUpload');
    // A retried Complete (its answer lost) succeeds again, as S3 answers it; other parts do not.
    const retried = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    assert.equal(retried.ETag, done.ETag);
    const other = await s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ ETag: etags[0], PartNumber: 1 }] } })));
    assert.equal(other.code, 'NoSuchUpload');
  });

  test('Complete checks: order, unknown parts, wrong ETags, small parts, unknown upload', async () => {
    const Key = 'mpu/errors.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const small = randomBytes(1024);
    const e1 = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: small }))).ETag!;
    const e2 = (await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: small }))).ETag!;
    const complete = (Parts: Array<{ ETag: string; PartNumber: number }>, id = UploadId) =>
      s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId: id, MultipartUpload: { Parts } })));
    assert.equal((await complete([{ ETag: e2, PartNumber: 2 }, { ETag: e1, PartNumber: 1 }])).code, 'InvalidPartOrder');
    assert.equal((await complete([{ ETag: e1, PartNumber: 1 }, { ETag: e2, PartNumber: 7 }])).code, 'InvalidPart');
    assert.equal((await complete([{ ETag: '"0123456789abcdef0123456789abcdef"', PartNumber: 1 }])).code, 'InvalidPart');
    assert.equal((await complete([{ ETag: e1, PartNumber: 1 }, { ETag: e2, PartNumber: 2 }])).code, 'EntityTooSmall');
    assert.equal((await complete([{ ETag: e1, PartNumber: 1 }], 'nonexistentuploadid0000')).code, 'NoSuchUpload');
    const bad = await s3Error(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 10001, Body: small })));
    assert.equal(bad.code, 'InvalidArgument');
    assert.equal((await s3Error(s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 0, Body: small })))).code, 'InvalidArgument');
    // A single small part is a valid (last) part.
    const ok = await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ ETag: e1, PartNumber: 1 }] } }));
    assert.match(ok.ETag!, /-1"$/);
  });

  test('8 concurrent UploadPart calls of one upload, then abort frees the space', async () => {
    const Key = 'mpu/parallel.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const parts = Array.from({ length: 8 }, () => randomBytes(5 * MiB));
    const etags = await Promise.all(parts.map((Body, i) => s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body })).then((o) => o.ETag!)));
    etags.forEach((e, i) => assert.equal(e, `"${md5(parts[i])}"`));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'mpu/parallel' }));
    assert.deepEqual(uploads.Uploads?.map((u) => [u.Key, u.UploadId]), [[Key, UploadId]]);
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    assert.ok(!existsSync(join(w.rootUfs, Bucket, '.strata.sys', 'uploads', UploadId!)), 'abort frees the parts at once');
    assert.equal((await s3Error(s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })))).code, 'NoSuchUpload');
  });

  test('ListMultipartUploads pages by key and upload id, and rolls up by delimiter', async () => {
    const ids: Array<[string, string]> = [];
    for (const Key of ['lmu/a', 'lmu/a', 'lmu/b', 'lmu/sub/c', 'lmu/sub/d', 'lmu/z']) {
      ids.push([Key, (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }))).UploadId!]);
    }
    const seen: Array<[string, string]> = [];
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (let i = 0; i < 10; i++) {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'lmu/', MaxUploads: 2, KeyMarker, UploadIdMarker }));
      seen.push(...(page.Uploads ?? []).map((u): [string, string] => [u.Key!, u.UploadId!]));
      if (!page.IsTruncated) break;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
    assert.deepEqual(seen.map((s) => s[0]), ['lmu/a', 'lmu/a', 'lmu/b', 'lmu/sub/c', 'lmu/sub/d', 'lmu/z']);
    assert.deepEqual(new Set(seen.map((s) => s[1])), new Set(ids.map((s) => s[1])));
    const rolled = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'lmu/', Delimiter: '/' }));
    assert.deepEqual(rolled.CommonPrefixes?.map((p) => p.Prefix), ['lmu/sub/']);
    assert.equal(rolled.Uploads?.length, 4);
    // Paged one at a time with the delimiter: a page that ends on a common prefix does not give it again.
    const pages: string[] = [];
    const marker: { KeyMarker?: string; UploadIdMarker?: string } = {};
    for (let i = 0; i < 10; i++) {
      const page = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'lmu/', Delimiter: '/', MaxUploads: 1, ...marker }));
      pages.push(...(page.Uploads ?? []).map((u) => u.Key!), ...(page.CommonPrefixes ?? []).map((p) => `CP:${p.Prefix}`));
      if (!page.IsTruncated) break;
      marker.KeyMarker = page.NextKeyMarker;
      marker.UploadIdMarker = page.NextUploadIdMarker;
    }
    assert.deepEqual(pages, ['lmu/a', 'lmu/a', 'lmu/b', 'CP:lmu/sub/', 'lmu/z']);
    // max-uploads=0 (and max-parts=0) ask for nothing: an empty answer that is not a page to go on from.
    const none = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'lmu/', MaxUploads: 0 }));
    assert.deepEqual([none.Uploads ?? [], none.IsTruncated], [[], false]);
    await s3.send(new UploadPartCommand({ Bucket, Key: ids[0][0], UploadId: ids[0][1], PartNumber: 1, Body: 'one part' }));
    const noParts = await s3.send(new ListPartsCommand({ Bucket, Key: ids[0][0], UploadId: ids[0][1], MaxParts: 0 }));
    assert.deepEqual([noParts.Parts ?? [], noParts.IsTruncated], [[], false]);
    for (const [Key, UploadId] of ids) await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
  });

  test('UploadPartCopy of ranges of an existing object', async () => {
    const source = randomBytes(12 * MiB);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'copy/source.bin', Body: source }));
    const Key = 'copy/assembled.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const p1 = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 1, CopySource: `${Bucket}/copy/source.bin`, CopySourceRange: `bytes=0-${6 * MiB - 1}` }));
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 2, CopySource: `/${Bucket}/copy/source.bin`, CopySourceRange: `bytes=${10 * MiB}-${12 * MiB - 1}` }));
    assert.equal(p1.CopyPartResult?.ETag, `"${md5(source.subarray(0, 6 * MiB))}"`);
    const bad = await s3Error(s3.send(new UploadPartCopyCommand({ Bucket, Key, UploadId, PartNumber: 3, CopySource: `${Bucket}/copy/source.bin`, CopySourceRange: `bytes=0-${13 * MiB}` })));
    assert.equal(bad.code, 'InvalidRange');
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ ETag: p1.CopyPartResult!.ETag, PartNumber: 1 }, { ETag: p2.CopyPartResult!.ETag, PartNumber: 2 }] } }));
    const got = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key })));
    assert.equal(md5(got), md5(Buffer.concat([source.subarray(0, 6 * MiB), source.subarray(10 * MiB)])));
  });

  test('CopyObject: across buckets, metadata COPY and REPLACE, tagging directive, conditions', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cp/src', Body: 'copy me', ContentType: 'text/plain', Metadata: { k: 'v' }, Tagging: 't=1' }));
    await s3.send(new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: 'other' }));
    const copied = await s3.send(new CopyObjectCommand({ Bucket: 'other', Key: 'dst name+&', CopySource: encodeURIComponent(`${Bucket}/cp/src`) }));
    assert.equal(copied.CopyObjectResult?.ETag, `"${md5(Buffer.from('copy me'))}"`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'other', Key: 'dst name+&' }));
    assert.equal(head.ContentType, 'text/plain');
    assert.equal(head.Metadata?.k, 'v');
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'other', Key: 'dst name+&' }));
    assert.deepEqual(tags.TagSet, [{ Key: 't', Value: '1' }]);

    await s3.send(new CopyObjectCommand({ Bucket, Key: 'cp/src', CopySource: `${Bucket}/cp/src`, MetadataDirective: 'REPLACE', ContentType: 'application/json', Metadata: { k2: 'v2' }, TaggingDirective: 'REPLACE', Tagging: 'x=y' }));
    const replaced = await s3.send(new HeadObjectCommand({ Bucket, Key: 'cp/src' }));
    assert.equal(replaced.ContentType, 'application/json');
    assert.deepEqual(replaced.Metadata, { k2: 'v2' });
    assert.equal(replaced.TagCount, 1);
    assert.equal(md5(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'cp/src' })))), md5(Buffer.from('copy me')));

    assert.equal((await s3Error(s3.send(new CopyObjectCommand({ Bucket, Key: 'cp/src', CopySource: `${Bucket}/cp/src` })))).code, 'InvalidRequest');
    assert.equal((await s3Error(s3.send(new CopyObjectCommand({ Bucket, Key: 'cp/x', CopySource: `${Bucket}/cp/missing` })))).code, 'NoSuchKey');
    assert.equal((await s3Error(s3.send(new CopyObjectCommand({ Bucket, Key: 'cp/x', CopySource: `${Bucket}/cp/src`, CopySourceIfMatch: '"nope"' })))).status, 412);
    assert.equal((await s3Error(s3.send(new CopyObjectCommand({ Bucket, Key: 'cp/x', CopySource: `${Bucket}/cp/src`, CopySourceIfNoneMatch: replaced.ETag })))).status, 412);
    assert.equal((await s3Error(s3.send(new CopyObjectCommand({ Bucket, Key: 'cp/x', CopySource: `${Bucket}/cp/src`, CopySourceIfModifiedSince: new Date(Date.now() + 3600_000) })))).status, 412);
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'cp/x', CopySource: `${Bucket}/cp/src`, CopySourceIfMatch: replaced.ETag, CopySourceIfUnmodifiedSince: new Date(Date.now() + 3600_000) }));
  });

  test('object and bucket tagging, with S3 limits', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tags/o', Body: 'x' }));
    const before = await s3.send(new HeadObjectCommand({ Bucket, Key: 'tags/o' }));
    await s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'tags/o', Tagging: { TagSet: [{ Key: 'a', Value: '1' }, { Key: 'b c', Value: 'ü &' }] } }));
    const got = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'tags/o' }));
    assert.deepEqual(got.TagSet, [{ Key: 'a', Value: '1' }, { Key: 'b c', Value: 'ü &' }]);
    const after = await s3.send(new HeadObjectCommand({ Bucket, Key: 'tags/o' }));
    assert.equal(after.ETag, before.ETag);
    assert.equal(after.TagCount, 2);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'tags/o' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'tags/o' }))).TagSet, []);

    const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    assert.equal((await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'tags/o', Tagging: { TagSet: eleven } })))).status, 400);
    assert.equal((await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'tags/o', Tagging: { TagSet: [{ Key: 'k'.repeat(129), Value: 'v' }] } })))).code, 'InvalidTag');
    assert.equal((await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'tags/o', Tagging: { TagSet: [{ Key: 'k', Value: 'v'.repeat(257) }] } })))).code, 'InvalidTag');
    assert.equal((await s3Error(s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'tags/o', Tagging: { TagSet: [{ Key: 'k', Value: '1' }, { Key: 'k', Value: '2' }] } })))).code, 'InvalidTag');
    assert.equal((await s3Error(s3.send(new PutObjectCommand({ Bucket, Key: 'tags/p', Body: 'x', Tagging: eleven.map((t) => `${t.Key}=${t.Value}`).join('&') })))).status, 400);
    assert.equal((await s3Error(s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'tags/missing' })))).code, 'NoSuchKey');

    assert.equal((await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket })))).code, 'NoSuchTagSet');
    await s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [{ Key: 'team', Value: 'storage' }] } }));
    assert.deepEqual((await s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet, [{ Key: 'team', Value: 'storage' }]);
    assert.equal((await s3Error(s3.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: eleven } })))).status, 400);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket }));
    assert.equal((await s3Error(s3.send(new GetBucketTaggingCommand({ Bucket })))).code, 'NoSuchTagSet');
  });

  test('staged parts never show in listings of the bucket', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'hidden/x' }));
    await s3.send(new UploadPartCommand({ Bucket, Key: 'hidden/x', UploadId, PartNumber: 1, Body: 'abc' }));
    const all = await s3.send(new ListObjectsV2Command({ Bucket }));
    assert.ok(!(all.Contents ?? []).some((c) => c.Key!.includes('.strata.sys')));
    assert.ok(readdirSync(join(w.rootUfs, Bucket, '.strata.sys', 'uploads')).includes(UploadId!));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'hidden/x', UploadId }));
  });
});
