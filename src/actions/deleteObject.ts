// DeleteObject: remove a key; a missing key is not an error (204 either way), a missing bucket is.
// If-Match, x-amz-if-match-last-modified-time and x-amz-if-match-size make it conditional.
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { writeConditionsFrom } from './shared/writeConditions.js';

export async function deleteObject(r: S3Request, svc: Services): Promise<void> {
  await svc.objects.deleteObject(r.endpoint.bucket, r.endpoint.key, writeConditionsFrom(r, true));
  sendEmpty(r, 204);
}
