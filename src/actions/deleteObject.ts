// DeleteObject: remove a key; a missing key is not an error (204 either way), a missing bucket is.
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';

export async function deleteObject(r: S3Request, svc: Services): Promise<void> {
  await svc.objects.deleteObject(r.endpoint.bucket, r.endpoint.key);
  sendEmpty(r, 204);
}
