// ListMultipartUploads: uploads in progress, sorted by key then initiation, with prefix,
// delimiter, key-marker, upload-id-marker and max-uploads.
import type { S3Request } from '../s3/handler.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import { compareUtf8 } from '../ufs/keyOrder.js';
import type { UploadInfo } from '../ufs/ufs.js';
import type { Services } from './shared/services.js';
import { identity, parseEncodingType, parseMaxKeys } from './shared/listing.js';
import { isoDate, ownerXml } from './shared/wire.js';

export async function listMultipartUploads(r: S3Request, svc: Services): Promise<void> {
  const { bucket, query } = r.endpoint;
  const prefix = query.prefix ?? '';
  const delimiter = query.delimiter ?? '';
  const keyMarker = query['key-marker'] ?? '';
  const uploadIdMarker = keyMarker ? query['upload-id-marker'] ?? '' : '';
  const maxUploads = parseMaxKeys(query['max-uploads'], 'max-uploads');
  const encode = parseEncodingType(query['encoding-type']);
  const enc = encode ?? identity;

  const all = await svc.multipart.listUploads(bucket);
  const uploads: UploadInfo[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  let last: { key: string; uploadId: string } | undefined;
  for (const u of all) {
    if (!u.key.startsWith(prefix)) continue;
    const cmp = compareUtf8(u.key, keyMarker);
    if (keyMarker && (cmp < 0 || (cmp === 0 && (!uploadIdMarker || compareUtf8(u.uploadId, uploadIdMarker) <= 0)))) continue;
    const i = delimiter ? u.key.indexOf(delimiter, prefix.length) : -1;
    const commonPrefix = i >= 0 ? u.key.slice(0, i + delimiter.length) : undefined;
    if (commonPrefix !== undefined && prefixes[prefixes.length - 1] === commonPrefix) continue;
    // A common prefix a previous page ended on (its NextKeyMarker) is not given again.
    if (commonPrefix !== undefined && commonPrefix === keyMarker) continue;
    if (uploads.length + prefixes.length === maxUploads) {
      // max-uploads=0 asks for nothing, and is not a page to continue (no marker to go on from),
      // as ListObjects answers max-keys=0.
      truncated = maxUploads > 0;
      break;
    }
    if (commonPrefix !== undefined) {
      prefixes.push(commonPrefix);
      last = { key: commonPrefix, uploadId: '' };
    } else {
      uploads.push(u);
      last = { key: u.key, uploadId: u.uploadId };
    }
  }
  sendXml(r, 200, xmlDocument('ListMultipartUploadsResult', {
    Bucket: bucket,
    KeyMarker: enc(keyMarker),
    UploadIdMarker: uploadIdMarker,
    ...(truncated && last ? { NextKeyMarker: enc(last.key), NextUploadIdMarker: last.uploadId } : {}),
    ...(encode ? { EncodingType: 'url' } : {}),
    ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
    Prefix: enc(prefix),
    MaxUploads: maxUploads,
    IsTruncated: truncated,
    Upload: uploads.map((u) => ({
      Key: enc(u.key),
      UploadId: u.uploadId,
      Initiator: ownerXml(u.meta.owner ?? r.identity.user),
      Owner: ownerXml(u.meta.owner ?? r.identity.user),
      StorageClass: 'STANDARD',
      Initiated: isoDate(u.initiated),
      ...(u.checksumAlgorithm ? { ChecksumAlgorithm: u.checksumAlgorithm } : {}),
    })),
    CommonPrefixes: prefixes.map((p) => ({ Prefix: enc(p) })),
  }));
}
