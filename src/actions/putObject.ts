// PutObject: stream the body through decoding and verification into the under-storage;
// the object becomes visible whole, or not at all.
import { bodyDecodersFor } from '../s3/body/bodyVerifier.js';
import { S3Error } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import { sendEmpty } from '../s3/respond.js';
import { checkTags, checkUserMetadataSize, parseTaggingHeader } from '../objects/limits.js';
import type { Services } from './shared/services.js';
import { checkCannedAcl } from './shared/acl.js';
import { checkStorageClass, storedMetaFromRequest } from './shared/objectHeaders.js';
import { checksumResponseHeaders, requireContentLength } from './shared/upload.js';
import { header, quoteEtag } from './shared/wire.js';
import { writeConditionsFrom } from './shared/writeConditions.js';

export async function putObject(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  requireContentLength(r);
  checkStorageClass(r);
  checkCannedAcl(header(r, 'x-amz-acl'));
  const stored = storedMetaFromRequest(r);
  checkUserMetadataSize(stored.userMetadata, svc.settings.maxMetadataBytes);
  const tags = parseTaggingHeader(header(r, 'x-amz-tagging') ?? '');
  checkTags(tags, svc.settings.taggingRestrictions);
  const conditions = writeConditionsFrom(r);
  const { streams, verifier, size, declared } = bodyDecodersFor(r.req.headers);

  const status = await svc.objects.putObject(bucket, key, [r.req, ...streams, verifier], () => ({
    etag: verifier.result.md5Hex,
    meta: { ...stored, tags, checksums: verifier.result.checksums },
  }), conditions, { size, meta: { ...stored, tags, checksums: declared } });
  r.log.bytesIn = verifier.result.size;
  if (status.isFolder && verifier.result.size > 0) throw new S3Error('InvalidRequest', 'A folder object cannot hold data.');
  sendEmpty(r, 200, { ETag: quoteEtag(status.etag), ...checksumResponseHeaders(verifier.result.checksums) });
}
