// PutObjectAcl: accepts only the canned `private` (or an owner-only policy).
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { acceptPrivateAclOnly } from './shared/acl.js';

export async function putObjectAcl(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const status = await svc.objects.headObject(bucket, key);
  await acceptPrivateAclOnly(r, status.meta.owner ?? svc.objects.mounts.get(bucket)?.owner ?? r.identity.user);
  sendEmpty(r, 200);
}
