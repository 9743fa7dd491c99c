// HeadObject: the headers of GetObject, no body (also for a range or a part).
import type { S3Request } from '../s3/handler.js';
import { checkReadConditions, parseRange, sendEmpty } from '../s3/respond.js';
import type { Services } from './shared/services.js';
import { readAnswer } from './shared/objectHeaders.js';
import { partNumberOf, partRange } from './shared/partNumber.js';
import { header } from './shared/wire.js';

export async function headObject(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const status = await svc.objects.headObject(bucket, key);
  checkReadConditions(r.req.headers, status);
  const part = partNumberOf(r);
  const range = part === undefined ? parseRange(header(r, 'range'), status.size) : partRange(status, part);
  const answer = readAnswer(r, status, range);
  sendEmpty(r, answer.code, answer.headers);
}
