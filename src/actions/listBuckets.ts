// ListBuckets: every mount is a bucket.
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import { isoDate, ownerXml } from './shared/wire.js';

export async function listBuckets(r: S3Request, svc: Services): Promise<void> {
  const buckets = svc.objects.listBuckets();
  sendXml(r, 200, xmlDocument('ListAllMyBucketsResult', {
    Owner: ownerXml(r.identity.user),
    Buckets: { Bucket: buckets.map((b) => ({ Name: b.bucket, CreationDate: isoDate(new Date(b.createdAt)) })) },
  }));
}
