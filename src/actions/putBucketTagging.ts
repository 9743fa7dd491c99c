// PutBucketTagging: replaces the bucket's tag set, kept in the mount table (204).
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { readTagging } from './shared/tagging.js';

export async function putBucketTagging(r: S3Request, svc: Services): Promise<void> {
  const { bucket } = r.endpoint;
  await svc.objects.headBucket(bucket);
  const tags = await readTagging(r, svc);
  await svc.objects.setBucketTags(bucket, tags);
  sendEmpty(r, 204);
}
