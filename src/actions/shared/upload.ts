// Checks and answers shared by the actions that receive object bytes (PutObject, UploadPart).
import type { S3Request } from '../../s3/handler.js';
import { S3Error } from '../../s3/errors.js';

/** S3 needs the size up front: Content-Length, or x-amz-decoded-content-length for aws-chunked bodies. */
export function requireContentLength(r: S3Request): void {
  const h = r.req.headers;
  if (h['content-length'] === undefined && h['x-amz-decoded-content-length'] === undefined && h['transfer-encoding'] === undefined) {
    throw new S3Error('MissingContentLength');
  }
}

/** S3's largest part: 5 GiB. */
export const MAX_PART_SIZE = 5 * 1024 ** 3;

/** A part announced larger than S3 allows is refused before any of it is read. */
export function checkPartSize(size: number | undefined): void {
  if (size !== undefined && size > MAX_PART_SIZE) {
    throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { fields: { ProposedSize: String(size), MaxSizeAllowed: String(MAX_PART_SIZE) } });
  }
}

/** Echo of the checksums a client sent or asked for, as S3 answers a PUT. */
export function checksumResponseHeaders(checksums: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [alg, value] of Object.entries(checksums)) out[`x-amz-checksum-${alg.toLowerCase()}`] = value;
  return out;
}

/** Part actions need the upload id in the query. */
export function requireUploadId(r: S3Request): string {
  const id = r.endpoint.query.uploadId;
  if (id === undefined || id === '') {
    throw new S3Error('InvalidArgument', 'This operation needs an uploadId.', { fields: { ArgumentName: 'uploadId', ArgumentValue: '' } });
  }
  return id;
}
