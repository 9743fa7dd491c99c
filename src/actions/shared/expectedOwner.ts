// x-amz-expected-bucket-owner (and x-amz-source-expected-bucket-owner for a copy's source), which
// every S3 operation takes: a request meant for a bucket of one owner is refused, AccessDenied,
// when the bucket there belongs to another. The owner is the ID Strata shows as the bucket's
// Owner (the user who made it); a mount with no recorded owner is not checked.
import { S3Error } from '../../s3/errors.js';
import { parseCopySource } from '../../s3/copySource.js';
import type { S3Request } from '../../s3/handler.js';
import type { Services } from './services.js';
import { header } from './wire.js';

export function checkExpectedBucketOwners(r: S3Request, svc: Services): void {
  check(svc, r.endpoint.bucket, header(r, 'x-amz-expected-bucket-owner'));
  const sourceOwner = header(r, 'x-amz-source-expected-bucket-owner');
  if (sourceOwner !== undefined && r.req.headers['x-amz-copy-source'] !== undefined) check(svc, parseCopySource(r).bucket, sourceOwner);
}

function check(svc: Services, bucket: string, expected: string | undefined): void {
  if (expected === undefined || bucket === '') return;
  const owner = svc.objects.mounts.get(bucket)?.owner;
  if (owner !== undefined && owner !== expected) throw new S3Error('AccessDenied');
}
