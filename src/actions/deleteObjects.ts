// DeleteObjects: up to 1000 keys in one XML request; each key answers Deleted or Error. An Object
// may carry ETag, LastModifiedTime and Size conditions, as DeleteObject's headers.
import type { S3Request } from '../s3/handler.js';
import { S3Error, toS3Error } from '../s3/errors.js';
import { sendXml } from '../s3/respond.js';
import { arrayOf, elementOf, readXmlBody, textOf, xmlDocument } from '../s3/xml.js';
import type { Services } from './shared/services.js';
import type { WriteConditions } from '../objects/conditions.js';
import { parseSizeHeader, parseTime } from './shared/writeConditions.js';

const MAX_KEYS_PER_REQUEST = 1000;
/** Keys deleted at once; more would only queue up in the filesystem thread pool. */
const PARALLEL_DELETES = 16;

export async function deleteObjects(r: S3Request, svc: Services): Promise<void> {
  const { bucket } = r.endpoint;
  await svc.objects.headBucket(bucket);
  const doc = await readXmlBody(r.req, svc.settings.maxXmlBytes, { integrityRequired: true });
  const del = elementOf(doc, 'Delete');
  const quiet = textOf(del.Quiet)?.trim().toLowerCase() === 'true';
  const objects = arrayOf(del.Object).map((o) => {
    const key = textOf(o.Key);
    if (key === undefined || key === '') throw new S3Error('MalformedXML', 'Every Object in a Delete request needs a Key.');
    const etag = textOf(o.ETag);
    const lastModified = textOf(o.LastModifiedTime);
    const size = textOf(o.Size);
    const conditions: WriteConditions = {
      ifMatch: etag,
      ifMatchLastModified: lastModified !== undefined ? parseTime(lastModified, 'LastModifiedTime') : undefined,
      ifMatchSize: size !== undefined ? parseSizeHeader(size, 'Size') : undefined,
    };
    return { key, versionId: textOf(o.VersionId), conditions };
  });
  if (objects.length === 0) throw new S3Error('MalformedXML', 'A Delete request must name at least one Object.');
  if (objects.length > MAX_KEYS_PER_REQUEST) throw new S3Error('MalformedXML', `A Delete request may name at most ${MAX_KEYS_PER_REQUEST} objects.`);

  const results: Array<{ Deleted?: Record<string, string>; Error?: Record<string, string> }> = new Array(objects.length);
  let next = 0;
  const worker = async () => {
    while (next < objects.length) {
      const i = next++;
      const { key, versionId, conditions } = objects[i];
      try {
        if (versionId !== undefined && versionId !== 'null') throw new S3Error('NoSuchVersion', 'Strata keeps no versions: only the version id "null" exists.');
        // In a cluster the key's owner deletes it, so that its cached status and pages go with it.
        if (svc.cluster?.ownedElsewhere(bucket, key)) await svc.cluster.deleteOnOwner(bucket, key, r.identity, conditions);
        else await svc.objects.deleteObject(bucket, key, conditions);
        results[i] = { Deleted: versionId ? { Key: key, VersionId: versionId } : { Key: key } };
      } catch (e) {
        const err = toS3Error(e);
        results[i] = { Error: { Key: key, ...(versionId ? { VersionId: versionId } : {}), Code: err.code, Message: err.message } };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_DELETES, objects.length) }, worker));

  const deleted = quiet ? [] : results.filter((x) => x.Deleted).map((x) => x.Deleted!);
  const errors = results.filter((x) => x.Error).map((x) => x.Error!);
  sendXml(r, 200, xmlDocument('DeleteResult', { Deleted: deleted, Error: errors }));
}
