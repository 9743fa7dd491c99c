// DeleteObjectTagging: removes every tag of the object (204).
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { requireMetadataChanges } from './shared/tagging.js';

export async function deleteObjectTagging(r: S3Request, svc: Services): Promise<void> {
  requireMetadataChanges(svc);
  await svc.objects.updateMeta(r.endpoint.bucket, r.endpoint.key, (meta) => ({ ...meta, tags: [] }));
  sendEmpty(r, 204);
}
