// GetObject: stream an object, or the byte range asked for, with S3's headers.
import { pipeline } from 'node:stream/promises';
import type { S3Request } from '../s3/handler.js';
import { checkReadConditions, parseRange } from '../s3/respond.js';
import { isSendable } from '../ufs/fileBody.js';
import type { Services } from './shared/services.js';
import { objectHeaders } from './shared/objectHeaders.js';
import { header } from './shared/wire.js';

export async function getObject(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key, query } = r.endpoint;
  const rangeHeader = header(r, 'range');
  const read = await svc.objects.getObject(bucket, key, (size) => parseRange(rangeHeader, size));
  const { status, range } = read;
  try {
    checkReadConditions(r.req.headers, status);
  } catch (e) {
    read.body.destroy();
    throw e;
  }
  const headers = objectHeaders(status, {
    checksums: !range && header(r, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED',
    query,
  });
  const length = range ? range.end - range.start + 1 : status.size;
  headers['Content-Length'] = String(length);
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${status.size}`;
  r.res.writeHead(range ? 206 : 200, headers);
  r.log.bytesOut = length;
  if (read.bytes && read.bytes.length === length) {
    r.res.end(read.bytes);
  } else if (isSendable(read.body)) {
    await read.body.sendTo(r.res);
  } else {
    await pipeline(read.body, r.res);
  }
}
