// GetBucketVersioning: versioning was never enabled, which S3 answers with an empty configuration.
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';

export async function getBucketVersioning(r: S3Request, svc: Services): Promise<void> {
  await svc.objects.headBucket(r.endpoint.bucket);
  sendXml(r, 200, xmlDocument('VersioningConfiguration', {}));
}
