// GetObjectTagging: the object's tag set (empty when it has none).
import type { S3Request } from '../s3/handler.js';
import type { Services } from './shared/services.js';
import { sendTagging } from './shared/tagging.js';

export async function getObjectTagging(r: S3Request, svc: Services): Promise<void> {
  const status = await svc.objects.headObject(r.endpoint.bucket, r.endpoint.key);
  sendTagging(r, status.meta.tags);
}
