// ListParts: the parts of an upload in progress, paged by part-number-marker and max-parts.
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import { parseMaxKeys } from './shared/listing.js';
import { requireUploadId } from './shared/upload.js';
import { S3Error } from '../s3/errors.js';
import { isoDate, ownerXml, quoteEtag } from './shared/wire.js';

export async function listParts(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key, query } = r.endpoint;
  const uploadId = requireUploadId(r);
  const maxParts = parseMaxKeys(query['max-parts'], 'max-parts');
  const markerRaw = query['part-number-marker'] ?? '0';
  if (!/^\d+$/.test(markerRaw)) {
    throw new S3Error('InvalidArgument', 'Provided part-number-marker not an integer or within integer range', { fields: { ArgumentName: 'part-number-marker', ArgumentValue: markerRaw } });
  }
  const marker = Number(markerRaw);
  const { upload, parts } = await svc.multipart.listParts(bucket, key, uploadId);
  const after = parts.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  // max-parts=0 asks for nothing, and is not a page to continue (as ListObjects' max-keys=0).
  const truncated = maxParts > 0 && after.length > page.length;
  const owner = ownerXml(upload.meta.owner ?? r.identity.user);
  sendXml(r, 200, xmlDocument('ListPartsResult', {
    Bucket: bucket,
    Key: key,
    UploadId: uploadId,
    Initiator: owner,
    Owner: owner,
    StorageClass: 'STANDARD',
    PartNumberMarker: marker,
    ...(page.length ? { NextPartNumberMarker: page[page.length - 1].partNumber } : {}),
    MaxParts: maxParts,
    IsTruncated: truncated,
    ...(upload.checksumAlgorithm ? { ChecksumAlgorithm: upload.checksumAlgorithm } : {}),
    Part: page.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: isoDate(p.lastModified),
      ETag: quoteEtag(p.etag),
      Size: p.size,
      ...Object.fromEntries(Object.entries(p.checksums).map(([alg, v]) => [`Checksum${alg}`, v])),
    })),
  }));
}
