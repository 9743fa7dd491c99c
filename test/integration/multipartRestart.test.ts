// Multipart uploads across a worker killed mid-upload, and the cleaner of abandoned uploads.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, GetObjectCommand,
  HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

const MiB = 1024 * 1024;
const client = (w: RunningWorker) =>
  new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'u', secretAccessKey: 's' }, maxAttempts: 1 });

test('a worker killed mid-upload: nothing partial is visible after restart, and the upload completes or aborts', { timeout: 120_000 }, async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'strata-restart-'));
  try {
    let w = await startWorker({ workDir });
    let s3 = client(w);
    const Bucket = 'data';
    const part1 = randomBytes(5 * MiB);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'r/obj' }));
    const e1 = (await s3.send(new UploadPartCommand({ Bucket, Key: 'r/obj', UploadId, PartNumber: 1, Body: part1 }))).ETag!;
    const { UploadId: other } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'r/other' }));
    // A part in flight when the worker dies: send half of it, then kill.
    const inFlight = s3.send(new UploadPartCommand({ Bucket, Key: 'r/obj', UploadId, PartNumber: 2, Body: Readable.from((async function* () {
      yield randomBytes(MiB);
      await new Promise((r) => setTimeout(r, 60_000));
    })()), ContentLength: 4 * MiB })).catch(() => 'failed');
    await new Promise((r) => setTimeout(r, 300));
    await w.kill();
    assert.equal(await inFlight, 'failed');
    s3.destroy();

    w = await startWorker({ workDir });
    s3 = client(w);
    try {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'r/' }));
      assert.equal(listed.KeyCount, 0, 'nothing partial is visible');
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
      assert.deepEqual(new Set(uploads.Uploads?.map((u) => u.UploadId)), new Set([UploadId, other]));
      const last = randomBytes(1000);
      const e2 = (await s3.send(new UploadPartCommand({ Bucket, Key: 'r/obj', UploadId, PartNumber: 2, Body: last }))).ETag!;
      await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'r/obj', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1 }, { PartNumber: 2, ETag: e2 }] } }));
      const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'r/obj' }));
      const chunks: Buffer[] = [];
      for await (const c of got.Body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
      assert.equal(createHash('md5').update(Buffer.concat(chunks)).digest('hex'), createHash('md5').update(Buffer.concat([part1, last])).digest('hex'));
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'r/other', UploadId: other }));
      assert.equal((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads?.length ?? 0, 0);
    } finally {
      s3.destroy();
      await w.stop();
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('abandoned uploads are aborted after the configured timeout', { timeout: 60_000 }, async () => {
  const w = await startWorker({ conf: { 'strata.worker.s3.multipart.upload.timeout': '2s' } });
  const s3 = client(w);
  try {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'old' }));
    await s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'old', UploadId, PartNumber: 1, Body: 'x' }));
    await waitFor(async () => ((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data' }))).Uploads ?? []).length === 0, 20_000, () => 'the upload was not cleaned');
    await assert.rejects(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'old' })));
  } finally {
    s3.destroy();
    await w.stop();
  }
});
