// x-amz-copy-source's conditions and range, shared by CopyObject and UploadPartCopy (the source
// itself is parsed in s3/copySource.ts, where authorization reads it too).
import type { S3Request } from '../../s3/handler.js';
import { S3Error } from '../../s3/errors.js';
import type { ObjectStatus } from '../../ufs/ufs.js';
import { evaluateConditions } from '../../s3/respond.js';
import { header } from './wire.js';

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
