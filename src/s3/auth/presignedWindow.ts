// When a presigned URL may be used: from its X-Amz-Date (less the clock skew allowed) for
// X-Amz-Expires seconds, at most a week. Checked in every mode, SIMPLE included: the time a URL
// was made for is not a secret, and a client that presigns expects its URLs to stop working.
import { S3Error } from '../errors.js';
import { parseAmzDate } from './canonical.js';

/** Largest clock difference accepted between a signed request and this worker (S3's 15 minutes). */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** Longest validity of a presigned URL (S3's 7 days). */
export const MAX_PRESIGN_SECONDS = 604800;

/** The request time of a presigned URL; AuthorizationQueryParametersError or AccessDenied when outside its window. */
export function checkPresignedWindow(amzDate: string | undefined, expires: string | undefined, now: Date): Date {
  const requestTime = parseAmzDate(amzDate ?? '');
  if (!requestTime) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'".');
  if (expires === undefined || !/^\d{1,7}$/.test(expires)) {
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number of seconds.');
  }
  if (Number(expires) > MAX_PRESIGN_SECONDS) {
    throw new S3Error('AuthorizationQueryParametersError', `X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGN_SECONDS}.`);
  }
  if (requestTime.getTime() - now.getTime() > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
  if (now.getTime() > requestTime.getTime() + Number(expires) * 1000) {
    throw new S3Error('AccessDenied', 'Request has expired', {
      fields: { 'X-Amz-Expires': expires, Expires: isoSeconds(new Date(requestTime.getTime() + Number(expires) * 1000)), ServerTime: isoSeconds(now) },
    });
  }
  return requestTime;
}

/** A SigV2 query's `Expires` (seconds since the epoch): AccessDenied once past. */
export function checkSigV2Expiry(expires: string | undefined, now: Date): void {
  if (expires !== undefined && /^\d+$/.test(expires) && Number(expires) * 1000 < now.getTime()) {
    throw new S3Error('AccessDenied', 'Request has expired', { fields: { Expires: isoSeconds(new Date(Number(expires) * 1000)), ServerTime: isoSeconds(now) } });
  }
}

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
