// GetObjectAttributes: what HeadObject and ListParts tell, in one answer, for the attributes named
// in x-amz-object-attributes (ETag, Checksum, ObjectParts, StorageClass, ObjectSize).
import type { S3Request } from '../s3/handler.js';
import { S3Error } from '../s3/errors.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import { parseMaxKeys } from './shared/listing.js';
import { header, httpDate } from './shared/wire.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;

export async function getObjectAttributes(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const wanted = new Set((header(r, 'x-amz-object-attributes') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  if (wanted.size === 0) throw new S3Error('InvalidRequest', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty');
  for (const a of wanted) {
    if (!(ATTRIBUTES as readonly string[]).includes(a)) {
      throw new S3Error('InvalidArgument', `Invalid attribute name specified: ${a}`, { fields: { ArgumentName: 'x-amz-object-attributes', ArgumentValue: a } });
    }
  }
  const maxParts = parseMaxKeys(header(r, 'x-amz-max-parts'), 'x-amz-max-parts');
  const markerRaw = header(r, 'x-amz-part-number-marker') ?? '0';
  if (!/^\d+$/.test(markerRaw)) throw new S3Error('InvalidArgument', 'x-amz-part-number-marker must be an integer.', { fields: { ArgumentName: 'x-amz-part-number-marker', ArgumentValue: markerRaw } });
  const marker = Number(markerRaw);

  const status = await svc.objects.headObject(bucket, key);
  const m = status.meta;
  const body: Record<string, unknown> = {};
  // GetObjectAttributes gives the ETag without quotes, unlike the ETag header.
  if (wanted.has('ETag')) body.ETag = status.etag;
  if (wanted.has('Checksum') && Object.keys(m.checksums).length > 0) {
    body.Checksum = {
      ...Object.fromEntries(Object.entries(m.checksums).map(([alg, v]) => [`Checksum${alg}`, v])),
      ChecksumType: m.checksumType ?? 'FULL_OBJECT',
    };
  }
  if (wanted.has('ObjectParts') && m.partsCount) {
    const parts = (m.parts ?? []).filter((p) => p.partNumber > marker);
    const page = parts.slice(0, maxParts);
    const withChecksums = page.some((p) => Object.keys(p.checksums).length > 0);
    body.ObjectParts = {
      // The member TotalPartsCount travels as <PartsCount>.
      PartsCount: m.partsCount,
      PartNumberMarker: marker,
      ...(page.length ? { NextPartNumberMarker: page[page.length - 1].partNumber } : {}),
      MaxParts: maxParts,
      IsTruncated: parts.length > page.length,
      // As S3 for general purpose buckets: parts are listed when they carry checksums.
      ...(withChecksums
        ? { Part: page.map((p) => ({ ...Object.fromEntries(Object.entries(p.checksums).map(([alg, v]) => [`Checksum${alg}`, v])), PartNumber: p.partNumber, Size: p.size })) }
        : {}),
    };
  }
  if (wanted.has('StorageClass')) body.StorageClass = 'STANDARD';
  if (wanted.has('ObjectSize')) body.ObjectSize = status.size;
  sendXml(r, 200, xmlDocument('GetObjectAttributesResponse', body), { 'Last-Modified': httpDate(status.lastModified) });
}
