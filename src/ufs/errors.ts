// Adapter-level errors: what went wrong in the storage, in storage terms. objects/ maps them
// to domain errors, and s3/errors.ts maps those to S3 codes (one mapping function per step).

export type StorageErrorKind =
  | 'NotFound'
  /** An object and a folder of the same name, or a file where a folder is needed. */
  | 'Conflict'
  /** A key this storage cannot hold (e.g. `..` on a folder mount). */
  | 'InvalidKey'
  | 'KeyTooLong'
  | 'Denied'
  | 'NoSpace'
  /** The storage could not be reached or answered with a server error. */
  | 'Unavailable'
  /** The storage asked to slow down (S3 SlowDown / 503). */
  | 'SlowDown'
  | 'Invalid'
  /** A conditional write or delete found the object in another state than required. */
  | 'PreconditionFailed';

export class StorageError extends Error {
  constructor(readonly kind: StorageErrorKind, message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'StorageError';
  }
}

/** Maps a Node system error met on a folder mount to a StorageError. */
export function fromSystemError(e: unknown, what: string): StorageError | unknown {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return new StorageError('NotFound', `${what}: not found`, e);
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
      return new StorageError('Conflict', `${what}: an object and a folder of the same name cannot both exist on a folder mount`, e);
    case 'ENAMETOOLONG':
      return new StorageError('KeyTooLong', `${what}: a path segment is too long for the filesystem`, e);
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new StorageError('Denied', `${what}: the filesystem refused access`, e);
    case 'ENOSPC':
    case 'EDQUOT':
      return new StorageError('NoSpace', `${what}: the filesystem is out of space`, e);
    case 'EIO':
    case 'ESTALE':
    case 'ETIMEDOUT':
      return new StorageError('Unavailable', `${what}: the filesystem failed (${err.code})`, e);
    default:
      return e;
  }
}
