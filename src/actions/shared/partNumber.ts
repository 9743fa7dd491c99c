// ?partNumber=N on GetObject and HeadObject: "effectively a ranged GET for the part specified".
// The answer is 206 with the part's Content-Range and x-amz-mp-parts-count. Part N is the N-th
// part of the completed object (what a downloader that asks for parts 1..count expects); an
// object written in one PUT has one part, the whole object.
import { S3Error } from '../../s3/errors.js';
import type { S3Request } from '../../s3/handler.js';
import type { ByteRange, ObjectStatus } from '../../ufs/ufs.js';
import { header } from './wire.js';

const MAX_PART_NUMBER = 10_000;

/** The part asked for, if any (validated); a Range header cannot come with it. */
export function partNumberOf(r: S3Request): number | undefined {
  const raw = r.endpoint.query.partNumber;
  if (raw === undefined) return undefined;
  const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 1 && n <= MAX_PART_NUMBER)) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, { fields: { ArgumentName: 'partNumber', ArgumentValue: raw } });
  }
  if (header(r, 'range') !== undefined) throw new S3Error('InvalidRequest', 'Cannot specify both Range header and partNumber query parameter');
  return n;
}

/** How many parts the object has, as x-amz-mp-parts-count gives it. */
export function partsCountOf(status: ObjectStatus): number {
  return status.meta.partsCount ?? 1;
}

/** The bytes of part `n` of the object. */
export function partRange(status: ObjectStatus, n: number): ByteRange | null {
  const count = partsCountOf(status);
  if (n > count) throw new S3Error('InvalidPartNumber');
  if (status.size === 0) return null;
  const parts = status.meta.parts;
  if (count === 1) return { start: 0, end: status.size - 1 };
  if (!parts || parts.length !== count) {
    // An object written as parts behind Strata (an S3 mount): where its parts begin is not known here.
    throw new S3Error('NotImplemented', 'partNumber is not available for this object: its part sizes are not known to this gateway; use a Range instead.');
  }
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += parts[i].size;
  return { start, end: start + parts[n - 1].size - 1 };
}
