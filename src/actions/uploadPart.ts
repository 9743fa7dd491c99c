// UploadPart: one part's bytes, decoded and verified as PutObject's, staged until Complete.
import type { S3Request } from '../s3/handler.js';
import { bodyDecodersFor } from '../s3/body/bodyVerifier.js';
import { sendEmpty } from '../s3/respond.js';
import { parsePartNumber } from '../objects/multipart.js';
import type { Services } from './shared/services.js';
import { checkPartSize, checksumResponseHeaders, requireContentLength, requireUploadId } from './shared/upload.js';
import { quoteEtag } from './shared/wire.js';

export async function uploadPart(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key, query } = r.endpoint;
  const uploadId = requireUploadId(r);
  const partNumber = parsePartNumber(query.partNumber);
  requireContentLength(r);
  const { streams, verifier, size } = bodyDecodersFor(r.req.headers);
  checkPartSize(size);
  const part = await svc.multipart.writePart(bucket, key, uploadId, partNumber, [r.req, ...streams, verifier], () => ({
    etag: verifier.result.md5Hex,
    checksums: verifier.result.checksums,
  }), { size });
  r.log.bytesIn = part.size;
  sendEmpty(r, 200, { ETag: quoteEtag(part.etag), ...checksumResponseHeaders(part.checksums) });
}
