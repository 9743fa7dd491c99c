// ListObjectsV2: continuation-token, delimiter, encoding-type, max-keys, prefix, start-after, fetch-owner.
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import { entryXml, listingQuery, makeContinuationToken, readContinuationToken } from './shared/listing.js';

export async function listObjectsV2(r: S3Request, svc: Services): Promise<void> {
  const { bucket, query } = r.endpoint;
  const { prefix, delimiter, marker: startAfter, maxKeys, encode, enc } = listingQuery(query, 'start-after');
  const token = query['continuation-token'];
  const fetchOwner = query['fetch-owner']?.toLowerCase() === 'true';
  // A continuation token wins over start-after, as in S3.
  const after = token !== undefined ? readContinuationToken(token) : startAfter;
  const page = await svc.objects.listObjects(bucket, { prefix, delimiter, after, maxKeys });
  const owner = svc.objects.mounts.get(bucket)?.owner ?? r.identity.user;
  sendXml(r, 200, xmlDocument('ListBucketResult', {
    Name: bucket,
    Prefix: enc(prefix),
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    MaxKeys: maxKeys,
    KeyCount: page.entries.length + page.commonPrefixes.length,
    IsTruncated: page.isTruncated,
    ...(encode ? { EncodingType: 'url' } : {}),
    ...(token !== undefined ? { ContinuationToken: token } : {}),
    ...(page.isTruncated && page.last ? { NextContinuationToken: makeContinuationToken(page.last) } : {}),
    ...(startAfter ? { StartAfter: enc(startAfter) } : {}),
    Contents: page.entries.map((e) => entryXml(e, enc, fetchOwner, owner)),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  }));
}
