// GetObject: stream an object, the byte range asked for, or one of its parts, with S3's headers.
import { pipeline } from 'node:stream/promises';
import { HELD_HEADER, VERSION_HEADER } from '../cluster/proxyCache.js';
import { S3Error } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import { checkReadConditions, parseRange, sendEmpty } from '../s3/respond.js';
import { isSendable } from '../ufs/fileBody.js';
import type { ByteRange, ObjectRead, ObjectStatus } from '../ufs/ufs.js';
import type { Services } from './shared/services.js';
import { readAnswer } from './shared/objectHeaders.js';
import { partNumberOf, partRange } from './shared/partNumber.js';
import { header } from './shared/wire.js';

export async function getObject(r: S3Request, svc: Services): Promise<void> {
  const part = partNumberOf(r);
  if (r.forwarded?.heldVersion !== undefined && (await answerHeld(r, svc, r.forwarded.heldVersion, part))) return;
  const read = part === undefined ? await openRange(r, svc, header(r, 'range')) : await openPart(r, svc, part);
  const { status, range } = read;
  let length: number;
  try {
    checkReadConditions(r.req.headers, status);
    const answer = readAnswer(r, status, range);
    // The worker that forwarded this may keep the bytes, under this version (cluster/proxyCache.ts).
    if (r.forwarded?.wantsVersion && !range) answer.headers[VERSION_HEADER] = status.version;
    r.res.writeHead(answer.code, answer.headers);
    length = answer.length;
  } catch (e) {
    // The body holds a file or a connection to the store until it is read or destroyed.
    read.body.destroy();
    throw e;
  }
  r.log.bytesOut = length;
  if (read.bytes && read.bytes.length === length) {
    r.res.end(read.bytes);
  } else if (isSendable(read.body)) {
    await read.body.sendTo(r.res);
  } else {
    await pipeline(read.body, r.res);
  }
}

/**
 * Opens the bytes a Range header asks for. The conditions come before the range (RFC 9110
 * §13.2.2, as S3 does): an unsatisfiable range of an object a condition rules out is 412 or 304.
 */
async function openRange(r: S3Request, svc: Services, rangeHeader: string | undefined): Promise<ObjectRead> {
  const { bucket, key } = r.endpoint;
  try {
    return await svc.objects.getObject(bucket, key, (size) => parseRange(rangeHeader, size));
  } catch (e) {
    if (e instanceof S3Error && e.code === 'InvalidRange') checkReadConditions(r.req.headers, await svc.objects.headObject(bucket, key));
    throw e;
  }
}

/** Opens part `part`: where it lies depends on the object's parts, so its status comes first. */
async function openPart(r: S3Request, svc: Services, part: number): Promise<ObjectRead> {
  const { bucket, key } = r.endpoint;
  for (let attempt = 0; ; attempt++) {
    const status = await svc.objects.headObject(bucket, key);
    checkReadConditions(r.req.headers, status);
    const range = partRange(status, part);
    const read = await svc.objects.getObject(bucket, key, () => range);
    if (read.status.version === status.version) return read;
    // Rewritten between the two looks: the range may belong to the old object.
    read.body.destroy();
    if (attempt === 2) throw new S3Error('SlowDown', 'The object is changing too fast to read one of its parts; retry.');
  }
}

/**
 * The forwarding worker holds `version` of the object: when that is still the current one, the
 * answer is the headers alone and that worker sends the bytes. False: send them from here.
 */
async function answerHeld(r: S3Request, svc: Services, version: string, part: number | undefined): Promise<boolean> {
  const status = await svc.objects.headObject(r.endpoint.bucket, r.endpoint.key);
  if (status.version !== version) return false;
  checkReadConditions(r.req.headers, status);
  const { code, headers, length } = readAnswer(r, status, rangeOf(r, status, part));
  r.log.note = 'held by the forwarding worker';
  sendEmpty(r, code, { ...headers, 'Content-Length': '0', [HELD_HEADER]: String(length) });
  return true;
}

function rangeOf(r: S3Request, status: ObjectStatus, part: number | undefined): ByteRange | null {
  return part === undefined ? parseRange(header(r, 'range'), status.size) : partRange(status, part);
}
