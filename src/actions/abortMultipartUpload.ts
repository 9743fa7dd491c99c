// AbortMultipartUpload: ends the upload and frees its parts at once (204).
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { requireUploadId } from './shared/upload.js';

export async function abortMultipartUpload(r: S3Request, svc: Services): Promise<void> {
  await svc.multipart.abort(r.endpoint.bucket, r.endpoint.key, requireUploadId(r));
  sendEmpty(r, 204);
}
