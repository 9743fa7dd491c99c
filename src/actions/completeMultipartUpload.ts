// CompleteMultipartUpload: every check that can fail fast runs first and answers a plain error;
// then the parts are joined. A join that takes longer than a moment is answered as S3 does:
// 200 at once, whitespace while the parts are joined, then the result or an <Error> in the body.
import type { S3Request } from '../s3/handler.js';
import { S3Error, toS3Error } from '../s3/errors.js';
import { errorElement, sendXml, XML_DECLARATION } from '../s3/respond.js';
import { arrayOf, elementOf, readXmlBody, textOf, xmlDocument } from '../s3/xml.js';
import { multipartEtag, normalizeEtag, type RequestedPart } from '../objects/multipart.js';
import type { ObjectMeta, ObjectStatus, PartInfo, UploadInfo } from '../ufs/ufs.js';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, checkChecksumValue, checksumHeaderName, createChecksum } from '../s3/body/checksums.js';
import type { Services } from './shared/services.js';
import { requireUploadId } from './shared/upload.js';
import { header, objectUrl, quoteEtag } from './shared/wire.js';
import { writeConditionsFrom } from './shared/writeConditions.js';

/** How long the join may take before the 200 goes out and whitespace keeps the connection alive. */
const ANSWER_EARLY_AFTER_MS = 1000;
const WHITESPACE_EVERY_MS = 5000;

export async function completeMultipartUpload(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const uploadId = requireUploadId(r);
  const requested = await readPartList(r, svc);
  let prepared: Awaited<ReturnType<typeof svc.multipart.prepareComplete>>;
  try {
    prepared = await svc.multipart.prepareComplete(bucket, key, uploadId, requested, writeConditionsFrom(r));
  } catch (e) {
    const done = await completedAlready(svc, bucket, key, requested, e);
    if (!done) throw e;
    sendXml(r, 200, resultXml(r, bucket, key, done));
    return;
  }
  const { upload, parts, commit } = prepared;
  const checksums = objectChecksums(upload, parts, expectedChecksum(r, upload));
  const joined = commit(checksums.onData, checksums.result);
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

/**
 * A Complete sent again after it succeeded (a retry whose answer was lost) answers 200 again, as
 * S3 does: the upload is gone, and the object there is the one these parts made (its ETag is the
 * multipart ETag of the part list sent).
 */
async function completedAlready(svc: Services, bucket: string, key: string, requested: RequestedPart[], failure: unknown): Promise<ObjectStatus | undefined> {
  if (toS3Error(failure).code !== 'NoSuchUpload' || !requested.every((p) => /^[0-9a-f]{32}$/.test(normalizeEtag(p.etag)))) return undefined;
  const current = await svc.objects.headObject(bucket, key).catch(() => undefined);
  return current?.etag === multipartEtag(requested.map((p) => ({ etag: normalizeEtag(p.etag) }))) ? current : undefined;
}

function resultXml(r: S3Request, bucket: string, key: string, status: ObjectStatus): string {
  const location = objectUrl(r, bucket, key);
  const checksums = Object.fromEntries(Object.entries(status.meta.checksums).map(([alg, v]) => [`Checksum${alg}`, v]));
  return xmlDocument('CompleteMultipartUploadResult', {
    Location: location,
    Bucket: bucket,
    Key: key,
    ETag: quoteEtag(status.etag),
    ...checksums,
    ...(status.meta.checksumType ? { ChecksumType: status.meta.checksumType } : {}),
  });
}

/**
 * The object's checksum the client sends with Complete (`x-amz-checksum-<alg>`), of the upload's
 * algorithm; a COMPOSITE one may carry its `-N`. Undefined when none is sent.
 */
function expectedChecksum(r: S3Request, upload: UploadInfo): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  const sent = CHECKSUM_ALGORITHMS.flatMap((algorithm) => {
    const value = header(r, checksumHeaderName(algorithm))?.trim();
    return value === undefined ? [] : [{ algorithm, value }];
  });
  if (sent.length === 0) return undefined;
  if (sent.length > 1) throw new S3Error('InvalidRequest', 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.');
  const [{ algorithm, value }] = sent;
  if (algorithm !== upload.checksumAlgorithm) {
    throw new S3Error('InvalidRequest', `The upload was created using the ${upload.checksumAlgorithm ?? 'null'} checksum algorithm; the complete request must use the same algorithm (it sent ${algorithm}).`);
  }
  checkChecksumValue(algorithm, value.replace(/-\d+$/, ''));
  return { algorithm, value };
}

/**
 * The object's checksum when the upload asked for one: COMPOSITE is the checksum of the parts'
 * binary checksums followed by `-N`; FULL_OBJECT is computed over the bytes as they are joined.
 * A checksum the client sent must match, else BadDigest and the object is not made.
 */
function objectChecksums(upload: UploadInfo, parts: PartInfo[], expected?: { algorithm: ChecksumAlgorithm; value: string }): {
  onData: (chunk: Buffer) => void;
  result: () => Pick<ObjectMeta, 'checksums' | 'checksumType'>;
} {
  const algorithm = upload.checksumAlgorithm as ChecksumAlgorithm | undefined;
  if (!algorithm) return { onData: () => undefined, result: () => ({ checksums: {} }) };
  // The value computed; a COMPOSITE one matches with or without its `-N`.
  const checked = (value: string, withoutCount = value): string => {
    if (expected && expected.value !== value && expected.value !== withoutCount) {
      throw new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
    }
    return value;
  };
  if (upload.checksumType === 'FULL_OBJECT') {
    const sum = createChecksum(algorithm);
    return {
      onData: (chunk) => sum.update(chunk),
      result: () => ({ checksums: { [algorithm]: checked(sum.digest().toString('base64')) }, checksumType: 'FULL_OBJECT' }),
    };
  }
  return {
    onData: () => undefined,
    result: () => {
      if (!parts.every((p) => p.checksums[algorithm])) {
        if (expected) throw new S3Error('InvalidRequest', `The ${algorithm} checksum of the object cannot be checked: not every part was sent with one.`);
        return { checksums: {} };
      }
      const sum = createChecksum(algorithm);
      for (const p of parts) sum.update(Buffer.from(p.checksums[algorithm], 'base64'));
      const composite = sum.digest().toString('base64');
      return { checksums: { [algorithm]: checked(`${composite}-${parts.length}`, composite) }, checksumType: 'COMPOSITE' };
    },
  };
}

async function readPartList(r: S3Request, svc: Services): Promise<RequestedPart[]> {
  // No body at all is MalformedXML here, as S3 answers it (s3-tests test_multipart_upload_empty).
  const body = await readXmlBody(r.req, svc.settings.maxXmlBytes, { checksumHeadersDescribeObject: true }).catch((e: unknown) => {
    throw e instanceof S3Error && e.code === 'MissingRequestBodyError' ? new S3Error('MalformedXML', 'You must specify at least one part.') : e;
  });
  const doc = elementOf(body, 'CompleteMultipartUpload');
  return arrayOf(doc.Part).map((p) => {
    const number = textOf(p.PartNumber)?.trim() ?? '';
    const etag = textOf(p.ETag);
    if (!/^\d+$/.test(number) || etag === undefined) throw new S3Error('MalformedXML', 'Every Part needs a PartNumber and an ETag.');
    const checksums: Record<string, string> = {};
    for (const alg of CHECKSUM_ALGORITHMS) {
      const v = textOf(p[`Checksum${alg}`]);
      if (v !== undefined) checksums[alg] = v.trim();
    }
    return { partNumber: Number(number), etag, checksums };
  });
}
