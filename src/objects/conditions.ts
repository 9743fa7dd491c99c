// Conditions on writes and deletes (S3's conditional writes): checked once early, to fail before
// a body is read, and again atomically with the change by the storage (ufs ChangeCheck).
import type { ChangeCheck, ObjectStatus } from '../ufs/ufs.js';
import { ObjectError } from './errors.js';

export interface WriteConditions {
  /** If-None-Match: * — only create. */
  ifNoneMatch?: boolean;
  /** If-Match: <etag> — only replace (or delete) this version. */
  ifMatch?: string;
  /** x-amz-if-match-last-modified-time (DeleteObject). */
  ifMatchLastModified?: Date;
  /** x-amz-if-match-size (DeleteObject). */
  ifMatchSize?: number;
}

export function hasConditions(c: WriteConditions | undefined): c is WriteConditions {
  return !!c && (c.ifNoneMatch === true || c.ifMatch !== undefined || c.ifMatchLastModified !== undefined || c.ifMatchSize !== undefined);
}

/** Throws PreconditionFailed (412), or NoSuchKey (404) for If-Match on a missing object. */
export function checkConditions(c: WriteConditions, current: ObjectStatus | null, key: string): void {
  const failed = (what: string) => new ObjectError('PreconditionFailed', `At least one of the preconditions you specified did not hold (${what}).`, { Condition: what });
  if (c.ifNoneMatch && current) throw failed('If-None-Match');
  const needsObject = c.ifMatch !== undefined || c.ifMatchLastModified !== undefined || c.ifMatchSize !== undefined;
  if (!needsObject) return;
  if (!current) throw new ObjectError('NoSuchKey', undefined, { Key: key });
  if (c.ifMatch !== undefined) {
    const ok = c.ifMatch.split(',').some((e) => {
      const t = e.trim();
      return t === '*' || t.replace(/^"(.*)"$/, '$1') === current.etag;
    });
    if (!ok) throw failed('If-Match');
  }
  if (c.ifMatchLastModified !== undefined && Math.floor(current.lastModified.getTime() / 1000) !== Math.floor(c.ifMatchLastModified.getTime() / 1000)) {
    throw failed('x-amz-if-match-last-modified-time');
  }
  if (c.ifMatchSize !== undefined && current.size !== c.ifMatchSize) throw failed('x-amz-if-match-size');
}

/** The check the storage runs atomically with the change, or undefined when there is nothing to check. */
export function changeCheck(c: WriteConditions | undefined, key: string): ChangeCheck | undefined {
  if (!hasConditions(c)) return undefined;
  return (current) => checkConditions(c, current, key);
}
