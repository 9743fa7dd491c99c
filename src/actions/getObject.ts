// GetObject: stream an object, or the byte range asked for, with S3's headers.
import { pipeline } from 'node:stream/promises';
import { HELD_HEADER, VERSION_HEADER } from '../cluster/proxyCache.js';
import type { S3Request } from '../s3/handler.js';
import { checkReadConditions, parseRange, sendEmpty } from '../s3/respond.js';
import { isSendable } from '../ufs/fileBody.js';
import type { Services } from './shared/services.js';
import { readAnswer } from './shared/objectHeaders.js';
import { header } from './shared/wire.js';

export async function getObject(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const rangeHeader = header(r, 'range');
  if (r.forwarded?.heldVersion !== undefined && (await answerHeld(r, svc, r.forwarded.heldVersion, rangeHeader))) return;
  const read = await svc.objects.getObject(bucket, key, (size) => parseRange(rangeHeader, size));
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
 * The forwarding worker holds `version` of the object: when that is still the current one, the
 * answer is the headers alone and that worker sends the bytes. False: send them from here.
 */
async function answerHeld(r: S3Request, svc: Services, version: string, rangeHeader: string | undefined): Promise<boolean> {
  const status = await svc.objects.headObject(r.endpoint.bucket, r.endpoint.key);
  if (status.version !== version) return false;
  // In the order of the read from here: an unsatisfiable range (416) before the conditions.
  const range = parseRange(rangeHeader, status.size);
  checkReadConditions(r.req.headers, status);
  const { code, headers, length } = readAnswer(r, status, range);
  r.log.note = 'held by the forwarding worker';
  sendEmpty(r, code, { ...headers, 'Content-Length': '0', [HELD_HEADER]: String(length) });
  return true;
}
