// x-amz-copy-source: the object CopyObject and UploadPartCopy read, which authorization checks too.
import { S3Error } from './errors.js';
import type { S3Request } from './handler.js';

export interface CopySource {
  bucket: string;
  key: string;
}

/** `/bucket/key`, `bucket/key` (URL-encoded), optionally `?versionId=null`. */
export function parseCopySource(r: S3Request): CopySource {
  const h = r.req.headers['x-amz-copy-source'];
  const raw = (Array.isArray(h) ? h.join(',') : h) ?? '';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  if (q >= 0) {
    const versionId = new URLSearchParams(raw.slice(q + 1)).get('versionId');
    if (versionId !== null && versionId !== 'null') throw new S3Error('NoSuchVersion', 'Strata keeps no versions: only the version id "null" exists.');
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey, URL-encoded.', { fields: { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw } });
  }
  const trimmed = decoded.startsWith('/') ? decoded.slice(1) : decoded;
  const slash = trimmed.indexOf('/');
  if (slash <= 0 || slash === trimmed.length - 1) {
    throw new S3Error('InvalidArgument', 'Copy Source must mention the source bucket and key: sourcebucket/sourcekey.', { fields: { ArgumentName: 'x-amz-copy-source', ArgumentValue: raw } });
  }
  return { bucket: trimmed.slice(0, slash), key: trimmed.slice(slash + 1) };
}

