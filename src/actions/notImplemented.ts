// Sub-resources and actions Strata does not serve: NotImplemented in XML, never a silent wrong answer.
import type { S3Request } from '../s3/handler.js';
import { S3Error } from '../s3/errors.js';

export async function notImplemented(r: S3Request): Promise<void> {
  const what = r.endpoint.action === 'Unsupported' ? `the ${r.endpoint.subresource} sub-resource` : r.endpoint.action;
  throw new S3Error('NotImplemented', `Strata does not implement ${what}.`);
}
