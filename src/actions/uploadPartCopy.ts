// UploadPartCopy: a part made of a source object's bytes (x-amz-copy-source, optional range).
import type { S3Request } from '../s3/handler.js';
import { BodyVerifier } from '../s3/body/bodyVerifier.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import { parsePartNumber } from '../objects/multipart.js';
import type { Services } from './shared/services.js';
import { parseCopySource } from '../s3/copySource.js';
import { checkCopyConditions, parseCopyRange } from './shared/copySource.js';
import { requireUploadId } from './shared/upload.js';
import { isoDate, quoteEtag } from './shared/wire.js';

export async function uploadPartCopy(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key, query } = r.endpoint;
  const uploadId = requireUploadId(r);
  const partNumber = parsePartNumber(query.partNumber);
  const source = parseCopySource(r);
  await svc.multipart.upload(bucket, key, uploadId);
  const read = await svc.objects.getObject(source.bucket, source.key, (size) => parseCopyRange(r, size));
  try {
    checkCopyConditions(r, read.status);
    const verifier = new BodyVerifier({});
    const part = await svc.multipart.writePart(bucket, key, uploadId, partNumber, [read.body, verifier], () => ({
      etag: verifier.result.md5Hex,
      checksums: verifier.result.checksums,
    }), { size: read.range ? read.range.end - read.range.start + 1 : read.status.size });
    r.log.bytesIn = part.size;
    sendXml(r, 200, xmlDocument('CopyPartResult', { LastModified: isoDate(part.lastModified), ETag: quoteEtag(part.etag) }));
  } finally {
    read.body.destroy();
  }
}
