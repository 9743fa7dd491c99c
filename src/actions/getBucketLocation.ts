// GetBucketLocation: the worker's region; us-east-1 is an empty LocationConstraint, as in S3.
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { S3_XMLNS } from '../s3/xml.js';
import type { Services } from './shared/services.js';

export async function getBucketLocation(r: S3Request, svc: Services): Promise<void> {
  await svc.objects.headBucket(r.endpoint.bucket);
  const region = svc.settings.region === 'us-east-1' ? '' : svc.settings.region;
  sendXml(r, 200, `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="${S3_XMLNS}">${region}</LocationConstraint>`);
}
