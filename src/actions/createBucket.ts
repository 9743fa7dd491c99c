// CreateBucket: a folder under the configured root folder, mounted as the bucket.
import { ObjectError } from '../objects/errors.js';
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import { elementOf, readXmlBody } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import { checkCannedAcl } from './shared/acl.js';
import { header } from './shared/wire.js';

/** A CreateBucketConfiguration is small; anything larger is not one. */
const MAX_CONFIGURATION_BYTES = 64 * 1024;

export async function createBucket(r: S3Request, svc: Services): Promise<void> {
  const { bucket } = r.endpoint;
  checkCannedAcl(header(r, 'x-amz-acl'));
  const length = Number(r.req.headers['content-length'] ?? 0);
  if (length > 0 || r.req.headers['transfer-encoding']) {
    // The location constraint is accepted whatever it names: a worker serves one region.
    elementOf(await readXmlBody(r.req, MAX_CONFIGURATION_BYTES), 'CreateBucketConfiguration');
  }
  try {
    await svc.objects.createBucket(bucket, r.identity.user);
  } catch (e) {
    // S3's legacy rule in us-east-1: re-creating a bucket you own succeeds and leaves it as it is.
    const ownAgain = e instanceof ObjectError && e.code === 'BucketAlreadyOwnedByYou';
    if (!ownAgain || svc.settings.region !== 'us-east-1') throw e;
  }
  sendEmpty(r, 200, { Location: `/${bucket}` });
}
