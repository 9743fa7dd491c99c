// ListBuckets: every mount is a bucket, in name order; prefix, max-buckets and continuation-token
// page through them as S3 does since 2024 (without max-buckets, all of them at once).
import { S3Error } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import { compareUtf8 } from '../ufs/keyOrder.js';
import type { Services } from './shared/services.js';
import { makeContinuationToken, readContinuationToken } from './shared/listing.js';
import { isoDate, ownerXml } from './shared/wire.js';

const MAX_BUCKETS = 10_000;

export async function listBuckets(r: S3Request, svc: Services): Promise<void> {
  const { query } = r.endpoint;
  const prefix = query.prefix ?? '';
  const max = maxBucketsOf(query['max-buckets']);
  const token = query['continuation-token'];
  const after = token !== undefined ? readContinuationToken(token) : '';
  const matching = svc.objects.listBuckets()
    .filter((b) => b.bucket.startsWith(prefix) && compareUtf8(b.bucket, after) > 0)
    .sort((a, b) => compareUtf8(a.bucket, b.bucket));
  const page = max === undefined ? matching : matching.slice(0, max);
  const truncated = page.length < matching.length;
  sendXml(r, 200, xmlDocument('ListAllMyBucketsResult', {
    Owner: ownerXml(r.identity.user),
    Buckets: { Bucket: page.map((b) => ({ Name: b.bucket, CreationDate: isoDate(new Date(b.createdAt)), BucketRegion: svc.settings.region })) },
    ...(truncated ? { ContinuationToken: makeContinuationToken(page[page.length - 1].bucket) } : {}),
    ...(query.prefix !== undefined ? { Prefix: prefix } : {}),
  }));
}

function maxBucketsOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_BUCKETS)) {
    throw new S3Error('InvalidArgument', `max-buckets must be an integer between 1 and ${MAX_BUCKETS}.`, { fields: { ArgumentName: 'max-buckets', ArgumentValue: raw } });
  }
  return n;
}
