// What the AWS SDK tests share: a client for a running worker, reading bodies, and S3 errors.
import assert from 'node:assert/strict';
import { S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { RunningWorker } from './worker.js';

export function s3Client(w: RunningWorker, accessKeyId = 'testuser'): S3Client {
  return new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey: 'testpassword' }, maxAttempts: 1 });
}

export async function bodyOf(out: { Body?: unknown }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of out.Body as AsyncIterable<Buffer>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** The S3 error a request fails with (code and HTTP status); fails the test when it succeeds. */
export async function s3Error(p: Promise<unknown>): Promise<{ code: string; status?: number }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, `expected an S3 error, got ${e}`);
    return { code: e.name, status: e.$metadata.httpStatusCode };
  }
  assert.fail('expected the request to fail');
}
