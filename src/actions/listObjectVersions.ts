// ListObjectVersions: an unversioned bucket's answer, every current object with version id "null".
import { S3Error } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import { entryXml, listingQuery } from './shared/listing.js';

export async function listObjectVersions(r: S3Request, svc: Services): Promise<void> {
  const { bucket, query } = r.endpoint;
  const { prefix, delimiter, marker: keyMarker, maxKeys, encode, enc } = listingQuery(query, 'key-marker');
  const versionIdMarker = query['version-id-marker'];
  if (versionIdMarker !== undefined && versionIdMarker !== '') {
    const argument = { fields: { ArgumentName: 'version-id-marker', ArgumentValue: versionIdMarker } };
    if (!keyMarker) throw new S3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.', argument);
    if (versionIdMarker !== 'null') throw new S3Error('InvalidArgument', 'Invalid version id specified', argument);
  }
  const page = await svc.objects.listObjects(bucket, { prefix, delimiter, after: keyMarker, maxKeys });
  const owner = svc.objects.mounts.get(bucket)?.owner ?? r.identity.user;
  sendXml(r, 200, xmlDocument('ListVersionsResult', {
    Name: bucket,
    Prefix: enc(prefix),
    KeyMarker: enc(keyMarker),
    VersionIdMarker: versionIdMarker ?? '',
    MaxKeys: maxKeys,
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    IsTruncated: page.isTruncated,
    ...(encode ? { EncodingType: 'url' } : {}),
    ...(page.isTruncated && page.last ? { NextKeyMarker: enc(page.last), NextVersionIdMarker: 'null' } : {}),
    Version: page.entries.map((e) => {
      const { Key, ...rest } = entryXml(e, enc, true, owner);
      return { Key, VersionId: 'null', IsLatest: true, ...rest };
    }),
    CommonPrefixes: page.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
  }));
}
