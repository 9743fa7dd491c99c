// HeadObject: the headers of GetObject, no body.
import type { S3Request } from '../s3/handler.js';
import { checkReadConditions, parseRange, sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { objectHeaders } from './shared/objectHeaders.js';
import { header } from './shared/wire.js';

export async function headObject(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key, query } = r.endpoint;
  const status = await svc.objects.headObject(bucket, key);
  checkReadConditions(r.req.headers, status);
  const range = parseRange(header(r, 'range'), status.size);
  const headers = objectHeaders(status, {
    checksums: !range && header(r, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED',
    query,
  });
  if (range) {
    headers['Content-Range'] = `bytes ${range.start}-${range.end}/${status.size}`;
    sendEmpty(r, 206, { ...headers, 'Content-Length': String(range.end - range.start + 1) });
  } else {
    sendEmpty(r, 200, { ...headers, 'Content-Length': String(status.size) });
  }
}
