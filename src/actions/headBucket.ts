// HeadBucket: 200 when the bucket is mounted and its storage opens, 404 otherwise.
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';

export async function headBucket(r: S3Request, svc: Services): Promise<void> {
  await svc.objects.headBucket(r.endpoint.bucket);
  sendEmpty(r, 200, { 'x-amz-bucket-region': svc.settings.region });
}
