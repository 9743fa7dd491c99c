// CompleteMultipartUpload: every check that can fail fast runs first and answers a plain error;
// then the parts are joined. A join that takes longer than a moment is answered as S3 does:
// 200 at once, whitespace while the parts are joined, then the result or an <Error> in the body.
import type { S3Request } from '../s3/handler.js';
import { S3Error, toS3Error } from '../s3/errors.js';
import { errorElement, sendXml, XML_DECLARATION } from '../s3/respond.js';
import { arrayOf, elementOf, readXmlBody, textOf, xmlDocument } from '../s3/xml.js';
import type { RequestedPart } from '../objects/multipart.js';
import type { ObjectStatus } from '../ufs/ufs.js';
import type { Services } from './shared/services.js';
import { requireUploadId } from './shared/upload.js';
import { header, quoteEtag } from './shared/wire.js';
import { writeConditionsFrom } from './shared/writeConditions.js';

/** How long the join may take before the 200 goes out and whitespace keeps the connection alive. */
const ANSWER_EARLY_AFTER_MS = 1000;
const WHITESPACE_EVERY_MS = 5000;

export async function completeMultipartUpload(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const uploadId = requireUploadId(r);
  const requested = await readPartList(r, svc);
  const { commit } = await svc.multipart.prepareComplete(bucket, key, uploadId, requested, writeConditionsFrom(r));

  const joined = commit(() => undefined);
  const early = await Promise.race([
    joined.then(() => false, () => false),
    new Promise<boolean>((res) => setTimeout(() => res(true), ANSWER_EARLY_AFTER_MS).unref()),
  ]);
  if (!early) {
    const status = await joined;
    sendXml(r, 200, resultXml(r, bucket, key, status));
    return;
  }
  r.res.writeHead(200, { 'Content-Type': 'application/xml' });
  r.res.write(XML_DECLARATION);
  const keepAlive = setInterval(() => r.res.write(' '), WHITESPACE_EVERY_MS);
  try {
    const status = await joined;
    r.res.end(resultXml(r, bucket, key, status).slice(XML_DECLARATION.length));
  } catch (e) {
    const err = toS3Error(e);
    r.log.note = `complete failed after 200: ${err.code}`;
    r.res.end(errorElement(err, r.resource, r.requestId));
  } finally {
    clearInterval(keepAlive);
  }
}

function resultXml(r: S3Request, bucket: string, key: string, status: ObjectStatus): string {
  const host = header(r, 'host') ?? 'localhost';
  const location = `http://${host}/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
  return xmlDocument('CompleteMultipartUploadResult', { Location: location, Bucket: bucket, Key: key, ETag: quoteEtag(status.etag) });
}

async function readPartList(r: S3Request, svc: Services): Promise<RequestedPart[]> {
  const doc = elementOf(await readXmlBody(r.req, svc.settings.maxXmlBytes), 'CompleteMultipartUpload');
  return arrayOf(doc.Part).map((p) => {
    const number = textOf(p.PartNumber)?.trim() ?? '';
    const etag = textOf(p.ETag);
    if (!/^\d+$/.test(number) || etag === undefined) throw new S3Error('MalformedXML', 'Every Part needs a PartNumber and an ETag.');
    return { partNumber: Number(number), etag };
  });
}
