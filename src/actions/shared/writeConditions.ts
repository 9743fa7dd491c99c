// Reading S3's conditional-write headers: If-None-Match (only `*`), If-Match, and for deletes
// x-amz-if-match-last-modified-time and x-amz-if-match-size.
import type { S3Request } from '../../s3/handler.js';
import { S3Error } from '../../s3/errors.js';
import type { WriteConditions } from '../../objects/conditions.js';
import { header } from './wire.js';

export function writeConditionsFrom(r: S3Request, forDelete = false): WriteConditions {
  const c: WriteConditions = {};
  const ifNoneMatch = header(r, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    if (forDelete) throw new S3Error('NotImplemented', 'If-None-Match is not supported on DeleteObject.');
    if (ifNoneMatch.trim() !== '*') throw new S3Error('NotImplemented', 'If-None-Match on a write accepts only "*" (create the object only if the key is free).');
    c.ifNoneMatch = true;
  }
  const ifMatch = header(r, 'if-match');
  if (ifMatch !== undefined) c.ifMatch = ifMatch;
  if (forDelete) {
    const lm = header(r, 'x-amz-if-match-last-modified-time');
    if (lm !== undefined) c.ifMatchLastModified = parseTime(lm, 'x-amz-if-match-last-modified-time');
    const size = header(r, 'x-amz-if-match-size');
    if (size !== undefined) c.ifMatchSize = parseSizeHeader(size, 'x-amz-if-match-size');
  }
  return c;
}

export function parseTime(v: string, name: string): Date {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new S3Error('InvalidArgument', `${name} is not a valid date.`, { fields: { ArgumentName: name, ArgumentValue: v } });
  return new Date(t);
}

export function parseSizeHeader(v: string, name: string): number {
  if (!/^\d+$/.test(v.trim())) throw new S3Error('InvalidArgument', `${name} is not a valid size.`, { fields: { ArgumentName: name, ArgumentValue: v } });
  return Number(v);
}
