// DeleteBucketTagging: removes the bucket's tags (204).
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';

export async function deleteBucketTagging(r: S3Request, svc: Services): Promise<void> {
  await svc.objects.setBucketTags(r.endpoint.bucket, []);
  sendEmpty(r, 204);
}
