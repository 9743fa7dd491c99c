// PutObjectTagging: replaces the object's tag set; its bytes, ETag and Last-Modified stay.
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { readTagging, requireMetadataChanges } from './shared/tagging.js';

export async function putObjectTagging(r: S3Request, svc: Services): Promise<void> {
  requireMetadataChanges(svc);
  const { bucket, key } = r.endpoint;
  await svc.objects.headObject(bucket, key);
  const tags = await readTagging(r, svc);
  await svc.objects.updateMeta(bucket, key, (meta) => ({ ...meta, tags }));
  sendEmpty(r, 200);
}
