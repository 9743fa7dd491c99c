// GetBucketTagging: the bucket's tag set, or NoSuchTagSet when it has none (as S3 answers).
import type { S3Request } from '../s3/handler.js';
import { S3Error } from '../s3/errors.js';
import type { Services } from './shared/services.js';
import { sendTagging } from './shared/tagging.js';

export async function getBucketTagging(r: S3Request, svc: Services): Promise<void> {
  const mount = await svc.objects.headBucket(r.endpoint.bucket);
  if (!mount.tags || mount.tags.length === 0) throw new S3Error('NoSuchTagSet', undefined, { fields: { BucketName: mount.bucket } });
  sendTagging(r, mount.tags);
}
