// PutBucketAcl: accepts only the canned `private` (or an owner-only policy).
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { acceptPrivateAclOnly } from './shared/acl.js';

export async function putBucketAcl(r: S3Request, svc: Services): Promise<void> {
  const mount = await svc.objects.headBucket(r.endpoint.bucket);
  await acceptPrivateAclOnly(r, mount.owner);
  sendEmpty(r, 200);
}
