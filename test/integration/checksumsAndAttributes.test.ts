// Multipart checksums (composite and full-object) and GetObjectAttributes.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  type ChecksumAlgorithm, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectAttributesCommand,
  HeadObjectCommand, ListPartsCommand, PutObjectCommand, S3Client, S3ServiceException, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const MiB = 1024 * 1024;
const crc32Raw = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b) >>> 0);
  return out;
};

describe('checksums of multipart objects, and GetObjectAttributes', { timeout: 120_000 }, () => {
  let w: RunningWorker;
  let s3: S3Client;
  const Bucket = 'data';

  before(async () => {
    w = await startWorker();
    s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'u', secretAccessKey: 's' }, maxAttempts: 1 });
  });
  after(async () => {
    s3.destroy();
    await w.stop();
  });

  async function upload(Key: string, parts: Buffer[], ChecksumAlgorithm: ChecksumAlgorithm, ChecksumType?: 'COMPOSITE' | 'FULL_OBJECT') {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm, ChecksumType }));
    const done: Array<{ PartNumber: number; ETag?: string; ChecksumCRC32?: string; ChecksumSHA256?: string }> = [];
    for (let i = 0; i < parts.length; i++) {
      const out = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body: parts[i], ChecksumAlgorithm }));
      done.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32, ChecksumSHA256: out.ChecksumSHA256 });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    assert.equal(listed.Parts?.length, parts.length);
    return { UploadId, complete: () => s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } })), done };
  }

  test('COMPOSITE CRC32: the checksum of the part checksums, -N', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1000)];
    const { complete } = await upload('ck/composite', parts, 'CRC32');
    const out = await complete();
    const expected = `${crc32Raw(Buffer.concat(parts.map(crc32Raw))).toString('base64')}-2`;
    assert.equal(out.ChecksumCRC32, expected);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'ck/composite', ChecksumMode: 'ENABLED' }));
    assert.equal(head.ChecksumCRC32, expected);
    assert.equal(head.ChecksumType, 'COMPOSITE');
  });

  test('FULL_OBJECT CRC32: the checksum of the whole object', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(777)];
    const { complete } = await upload('ck/full', parts, 'CRC32', 'FULL_OBJECT');
    const out = await complete();
    assert.equal(out.ChecksumCRC32, crc32Raw(Buffer.concat(parts)).toString('base64'));
    assert.equal(out.ChecksumType, 'FULL_OBJECT');
  });

  test("Complete's x-amz-checksum-* is the object's checksum: checked (BadDigest, nothing made, the upload stays), not the XML body's", async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(321)];
    const whole = crc32Raw(Buffer.concat(parts)).toString('base64');
    const full = await upload('ck/full-sent', parts, 'CRC32', 'FULL_OBJECT');
    const send = (Key: string, UploadId: string | undefined, Parts: typeof full.done, ChecksumCRC32: string) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts }, ChecksumCRC32 }));
    await assert.rejects(send('ck/full-sent', full.UploadId, full.done, crc32Raw(Buffer.from('other')).toString('base64')), (e: S3ServiceException) => e.name === 'BadDigest');
    const missing = await s3.send(new HeadObjectCommand({ Bucket, Key: 'ck/full-sent' })).then(() => 'exists', (e: S3ServiceException) => e.name);
    assert.equal(missing, 'NotFound');
    assert.equal((await send('ck/full-sent', full.UploadId, full.done, whole)).ChecksumCRC32, whole);

    const composite = await upload('ck/composite-sent', parts, 'CRC32');
    const value = crc32Raw(Buffer.concat(parts.map(crc32Raw))).toString('base64');
    assert.equal((await send('ck/composite-sent', composite.UploadId, composite.done, `${value}-2`)).ChecksumCRC32, `${value}-2`);
    const again = await upload('ck/composite-sent2', parts, 'CRC32');
    assert.equal((await send('ck/composite-sent2', again.UploadId, again.done, value)).ChecksumCRC32, `${value}-2`, 'without its -N');
    const sha = await upload('ck/other-alg', [randomBytes(10)], 'SHA256');
    await assert.rejects(send('ck/other-alg', sha.UploadId, sha.done, value), (e: S3ServiceException) => e.name === 'InvalidRequest');
  });

  test('a part checksum in Complete that does not match is InvalidPart', async () => {
    const { UploadId, done } = await upload('ck/wrong', [randomBytes(100)], 'SHA256');
    const parts = done.map((p) => ({ ...p, ChecksumSHA256: createHash('sha256').update('other').digest('base64') }));
    await assert.rejects(
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'ck/wrong', UploadId, MultipartUpload: { Parts: parts } })),
      (e: S3ServiceException) => e.name === 'InvalidPart',
    );
  });

  test('GetObjectAttributes: ETag, size, storage class, checksum and parts with paging', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(10)];
    const { complete } = await upload('ck/attrs', parts, 'SHA256');
    const done = await complete();
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'ck/attrs', ObjectAttributes: ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'], MaxParts: 2 }));
    assert.equal(`"${attrs.ETag}"`, done.ETag);
    assert.equal(attrs.ObjectSize, 10 * MiB + 10);
    assert.equal(attrs.StorageClass, 'STANDARD');
    assert.equal(attrs.Checksum?.ChecksumSHA256, done.ChecksumSHA256);
    assert.equal(attrs.ObjectParts?.TotalPartsCount, 3);
    assert.equal(attrs.ObjectParts?.IsTruncated, true);
    assert.deepEqual(attrs.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size]), [[1, 5 * MiB], [2, 5 * MiB]]);
    const next = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'ck/attrs', ObjectAttributes: ['ObjectParts'], PartNumberMarker: attrs.ObjectParts?.NextPartNumberMarker }));
    assert.deepEqual(next.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumSHA256]), [[3, 10, createHash('sha256').update(parts[2]).digest('base64')]]);

    await s3.send(new PutObjectCommand({ Bucket, Key: 'ck/simple', Body: 'simple' }));
    const simple = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'ck/simple', ObjectAttributes: ['ETag', 'ObjectSize', 'ObjectParts'] }));
    assert.equal(simple.ETag, createHash('md5').update('simple').digest('hex'));
    assert.equal(simple.ObjectSize, 6);
    assert.equal(simple.ObjectParts, undefined);
    await assert.rejects(s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'ck/missing', ObjectAttributes: ['ETag'] })), (e: S3ServiceException) => e.name === 'NoSuchKey');
  });
});
