// ListObjects (version 1): prefix, delimiter, marker, max-keys, encoding-type.
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import { entryXml, listingQuery } from './shared/listing.js';

export async function listObjects(r: S3Request, svc: Services): Promise<void> {
  const { bucket, query } = r.endpoint;
  const { prefix, delimiter, marker, maxKeys, encode, enc } = listingQuery(query, 'marker');
  const page = await svc.objects.listObjects(bucket, { prefix, delimiter, after: marker, maxKeys });
  const owner = svc.objects.mounts.get(bucket)?.owner ?? r.identity.user;
  sendXml(r, 200, xmlDocument('ListBucketResult', {
    Name: bucket,
    Prefix: enc(prefix),
    Marker: enc(marker),
    MaxKeys: maxKeys,
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    IsTruncated: page.isTruncated,
    ...(encode ? { EncodingType: 'url' } : {}),
    // S3 gives NextMarker only with a delimiter; without one the last key is the marker.
    ...(page.isTruncated && delimiter && page.last ? { NextMarker: enc(page.last) } : {}),
    Contents: page.entries.map((e) => entryXml(e, enc, true, owner)),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  }));
}
