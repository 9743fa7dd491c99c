// DeleteBucket: removes an empty bucket that CreateBucket made (a mount is removed with `strata mount remove`).
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';

export async function deleteBucket(r: S3Request, svc: Services): Promise<void> {
  await svc.objects.deleteBucket(r.endpoint.bucket);
  sendEmpty(r, 204);
}
