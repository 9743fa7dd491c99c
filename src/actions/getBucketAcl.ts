// GetBucketAcl: the bucket's owner with FULL_CONTROL.
import type { S3Request } from '../s3/handler.js';
import type { Services } from './shared/services.js';
import { sendOwnerOnlyAcl } from './shared/acl.js';

export async function getBucketAcl(r: S3Request, svc: Services): Promise<void> {
  const mount = await svc.objects.headBucket(r.endpoint.bucket);
  sendOwnerOnlyAcl(r, mount.owner);
}
