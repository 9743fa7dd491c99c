// What the store (or the way to it) answered -> StorageError, whose message names the store, so
// an S3 error Strata sends says which under-storage failed. Nothing here ever waits.
import { StorageError } from '../errors.js';

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

/** HTTP status of a store answer, if it was one. */
export function statusOf(e: unknown): number | undefined {
  const err = e as SdkError;
  return err?.$metadata?.httpStatusCode ?? err?.$response?.statusCode;
}

/** True for "no such key" answers (HEAD answers a bare 404 without a code). */
export function isNotFound(e: unknown): boolean {
  const err = e as SdkError;
  return err?.name === 'NoSuchKey' || err?.name === 'NotFound' || (statusOf(e) === 404 && err?.name !== 'NoSuchBucket' && err?.name !== 'NoSuchUpload');
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** Maps an error of a store call; `store` names it (s3://bucket/prefix/ at endpoint). */
export function fromS3Error(e: unknown, store: string, what: string): unknown {
  if (e instanceof StorageError) return e;
  const err = e as SdkError;
  if (!err || typeof err !== 'object') return e;
  const name = err.name ?? '';
  const status = statusOf(e);
  const detail = `${what} on ${store}`;
  if (status === undefined) {
    // No answer at all: refused, reset, timed out, aborted by our own timeout.
    if (name === 'TimeoutError' || name === 'AbortError' || NETWORK_CODES.has(err.code ?? '') || name === 'RequestTimeout') {
      return new StorageError('Unavailable', `${detail}: the store did not answer (${err.code ?? name}: ${err.message ?? ''})`, e);
    }
    if (err.code === 'ERR_STREAM_PREMATURE_CLOSE') return new StorageError('Unavailable', `${detail}: the connection to the store closed early`, e);
    return e;
  }
  if (name === 'SlowDown' || status === 429) return new StorageError('SlowDown', `${detail}: the store asked to slow down`, e);
  if (status >= 500) return new StorageError('Unavailable', `${detail}: the store failed (${status} ${name})`, e);
  switch (name) {
    case 'NoSuchKey':
    case 'NotFound':
    case 'NoSuchUpload':
      return new StorageError('NotFound', `${detail}: not found`, e);
    case 'NoSuchBucket':
      return new StorageError('Unavailable', `${detail}: the store has no such bucket`, e);
    case 'PreconditionFailed':
    case 'ConditionalRequestConflict':
      return new StorageError('PreconditionFailed', `${detail}: the object changed meanwhile`, e);
    case 'KeyTooLongError':
      return new StorageError('KeyTooLong', `${detail}: the key is too long for the store`, e);
    case 'AccessDenied':
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredToken':
    case 'InvalidToken':
      return new StorageError('Denied', `${detail}: the store refused access (${name})`, e);
    default:
      break;
  }
  if (status === 404) return new StorageError('NotFound', `${detail}: not found`, e);
  if (status === 412) return new StorageError('PreconditionFailed', `${detail}: the object changed meanwhile`, e);
  if (status === 403) return new StorageError('Denied', `${detail}: the store refused access (${name})`, e);
  return new StorageError('Invalid', `${detail}: the store refused the request (${status} ${name}: ${err.message ?? ''})`, e);
}
