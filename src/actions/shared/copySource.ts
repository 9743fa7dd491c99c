// x-amz-copy-source and its conditions, shared by CopyObject and UploadPartCopy.
import type { S3Request } from '../../s3/handler.js';
import { S3Error } from '../../s3/errors.js';
import type { ObjectStatus } from '../../ufs/ufs.js';
import { evaluateConditions } from '../../s3/respond.js';
import { header } from './wire.js';

export interface CopySource {
  bucket: string;
  key: string;
}

/** `/bucket/key`, `bucket/key` (URL-encoded), optionally `?versionId=null`. */
export function parseCopySource(r: S3Request): CopySource {
  const raw = header(r, 'x-amz-copy-source') ?? '';
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

/** x-amz-copy-source-if-match / -none-match / -modified-since / -unmodified-since: any failure is 412. */
export function checkCopyConditions(r: S3Request, source: ObjectStatus): void {
  const outcome = evaluateConditions(
    {
      ifMatch: header(r, 'x-amz-copy-source-if-match'),
      ifNoneMatch: header(r, 'x-amz-copy-source-if-none-match'),
      ifModifiedSince: header(r, 'x-amz-copy-source-if-modified-since'),
      ifUnmodifiedSince: header(r, 'x-amz-copy-source-if-unmodified-since'),
    },
    source,
  );
  if (outcome !== 'ok') throw new S3Error('PreconditionFailed', undefined, { fields: { Condition: 'x-amz-copy-source-If-*' } });
}

/** x-amz-copy-source-range: `bytes=first-last`, within the source. */
export function parseCopyRange(r: S3Request, size: number): { start: number; end: number } | null {
  const raw = header(r, 'x-amz-copy-source-range');
  if (raw === undefined) return null;
  const m = /^bytes=(\d+)-(\d+)$/.exec(raw.trim());
  if (!m || Number(m[2]) < Number(m[1])) {
    throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy', { fields: { ArgumentName: 'x-amz-copy-source-range', ArgumentValue: raw } });
  }
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end >= size) throw new S3Error('InvalidRange', `Range specified is not valid for source object of size: ${size}`, { fields: { RangeRequested: raw, ActualObjectSize: String(size) } });
  return { start, end };
}
