// CreateMultipartUpload: records what the object will get at Complete and answers an upload id.
import type { S3Request } from '../s3/handler.js';
import { parseChecksumAlgorithm } from '../s3/body/checksums.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import { checkTags, checkUserMetadataSize, parseTaggingHeader } from '../objects/limits.js';
import type { Services } from './shared/services.js';
import { storedMetaFromRequest } from './shared/objectHeaders.js';
import { header } from './shared/wire.js';

export async function createMultipartUpload(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const stored = storedMetaFromRequest(r);
  checkUserMetadataSize(stored.userMetadata, svc.settings.maxMetadataBytes);
  const tags = parseTaggingHeader(header(r, 'x-amz-tagging') ?? '');
  checkTags(tags, svc.settings.taggingRestrictions);
  const algorithmHeader = header(r, 'x-amz-checksum-algorithm');
  const algorithm = algorithmHeader ? parseChecksumAlgorithm(algorithmHeader) : undefined;
  const upload = await svc.multipart.create(bucket, key, { ...stored, tags, checksums: {} }, algorithm);
  sendXml(r, 200, xmlDocument('InitiateMultipartUploadResult', { Bucket: bucket, Key: key, UploadId: upload.uploadId }),
    algorithm ? { 'x-amz-checksum-algorithm': algorithm } : {});
}
