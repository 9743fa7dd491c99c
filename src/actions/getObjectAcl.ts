// GetObjectAcl: the object's writer with FULL_CONTROL (s3cmd reads it before `info` and `cp`).
import type { S3Request } from '../s3/handler.js';
import type { Services } from './shared/services.js';
import { sendOwnerOnlyAcl } from './shared/acl.js';

export async function getObjectAcl(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const status = await svc.objects.headObject(bucket, key);
  sendOwnerOnlyAcl(r, status.meta.owner ?? svc.objects.mounts.get(bucket)?.owner ?? r.identity.user);
}
