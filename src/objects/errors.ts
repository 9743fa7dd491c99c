// Domain errors of the object service. They carry the S3 code they mean (the code names are the
// API's vocabulary); s3/errors.ts turns them into S3Error for the wire.
import type { S3ErrorCode } from '../s3/errors.js';
import { StorageError, type StorageErrorKind } from '../ufs/errors.js';

export class ObjectError extends Error {
  constructor(readonly code: S3ErrorCode, message?: string, readonly fields: Record<string, string> = {}) {
    // Without a message of its own, the S3 table's message for the code is used on the wire.
    super(message ?? '');
    this.name = 'ObjectError';
  }
}

const STORAGE_TO_CODE: Record<StorageErrorKind, S3ErrorCode> = {
  NotFound: 'NoSuchKey',
  Conflict: 'ObjectNameConflict',
  InvalidKey: 'InvalidObjectName',
  KeyTooLong: 'KeyTooLongError',
  Denied: 'AccessDenied',
  NoSpace: 'ServiceUnavailable',
  Unavailable: 'ServiceUnavailable',
  SlowDown: 'SlowDown',
  Invalid: 'InvalidRequest',
  PreconditionFailed: 'PreconditionFailed',
};

/** Adapter error -> domain error; anything else passes through unchanged. */
export function fromStorage(e: unknown, mount?: string): unknown {
  if (!(e instanceof StorageError)) return e;
  const where = mount && (e.kind === 'Unavailable' || e.kind === 'SlowDown' || e.kind === 'NoSpace') ? ` (mount ${mount})` : '';
  return new ObjectError(STORAGE_TO_CODE[e.kind], e.message + where);
}
