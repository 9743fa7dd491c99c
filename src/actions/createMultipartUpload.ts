// CreateMultipartUpload: records what the object will get at Complete (headers, metadata, tags,
// the checksum algorithm and type) and answers an upload id.
import type { S3Request } from '../s3/handler.js';
import { type ChecksumAlgorithm, parseChecksumAlgorithm } from '../s3/body/checksums.js';
import { S3Error } from '../s3/errors.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import { checkTags, checkUserMetadataSize, parseTaggingHeader } from '../objects/limits.js';
import type { Services } from './shared/services.js';
import { checkCannedAcl } from './shared/acl.js';
import { checkStorageClass, storedMetaFromRequest } from './shared/objectHeaders.js';
import { header } from './shared/wire.js';

export async function createMultipartUpload(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  checkStorageClass(r);
  checkCannedAcl(header(r, 'x-amz-acl'));
  const stored = storedMetaFromRequest(r);
  checkUserMetadataSize(stored.userMetadata, svc.settings.maxMetadataBytes);
  const tags = parseTaggingHeader(header(r, 'x-amz-tagging') ?? '');
  checkTags(tags, svc.settings.taggingRestrictions);
  const checksum = checksumChoice(header(r, 'x-amz-checksum-algorithm'), header(r, 'x-amz-checksum-type'));
  const upload = await svc.multipart.create(bucket, key, { ...stored, tags, checksums: {} }, checksum);
  sendXml(r, 200, xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: upload.uploadId }),
    checksum ? { 'x-amz-checksum-algorithm': checksum.algorithm, 'x-amz-checksum-type': checksum.type } : {});
}

/**
 * x-amz-checksum-algorithm and x-amz-checksum-type: COMPOSITE (a checksum of the parts' checksums)
 * is the default but for CRC64NVME, which is FULL_OBJECT only; SHA algorithms cannot be FULL_OBJECT.
 */
function checksumChoice(algorithmHeader: string | undefined, typeHeader: string | undefined): { algorithm: ChecksumAlgorithm; type: 'COMPOSITE' | 'FULL_OBJECT' } | undefined {
  if (!algorithmHeader) {
    if (typeHeader) throw new S3Error('InvalidRequest', 'x-amz-checksum-type needs x-amz-checksum-algorithm.');
    return undefined;
  }
  const algorithm = parseChecksumAlgorithm(algorithmHeader);
  const type = (typeHeader?.toUpperCase() ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE')) as 'COMPOSITE' | 'FULL_OBJECT';
  if (type !== 'COMPOSITE' && type !== 'FULL_OBJECT') throw new S3Error('InvalidRequest', `x-amz-checksum-type must be COMPOSITE or FULL_OBJECT, not ${typeHeader}.`);
  if (type === 'FULL_OBJECT' && algorithm.startsWith('SHA')) throw new S3Error('InvalidRequest', `The ${algorithm} algorithm does not support the FULL_OBJECT checksum type.`);
  if (type === 'COMPOSITE' && algorithm === 'CRC64NVME') throw new S3Error('InvalidRequest', 'The CRC64NVME algorithm supports only the FULL_OBJECT checksum type.');
  return { algorithm, type };
}
