// CopyObject: streams a source object (any bucket, any mount) into a new object; metadata and
// tags are copied or replaced as the directives say.
import { S3Error } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import { BodyVerifier } from '../s3/body/bodyVerifier.js';
import { sendXml } from '../s3/respond.js';
import { xmlDocument } from '../s3/xml.js';
import { checkTags, checkUserMetadataSize, parseTaggingHeader } from '../objects/limits.js';
import type { ObjectMeta } from '../ufs/ufs.js';
import type { Services } from './shared/services.js';
import { checkCannedAcl } from './shared/acl.js';
import { parseCopySource } from '../s3/copySource.js';
import { checkCopyConditions } from './shared/copySource.js';
import { checkStorageClass, storedMetaFromRequest } from './shared/objectHeaders.js';
import { header, isoDate, quoteEtag } from './shared/wire.js';
import { writeConditionsFrom } from './shared/writeConditions.js';

export async function copyObject(r: S3Request, svc: Services): Promise<void> {
  const { bucket, key } = r.endpoint;
  const source = parseCopySource(r);
  const metadataDirective = directive(r, 'x-amz-metadata-directive');
  const taggingDirective = directive(r, 'x-amz-tagging-directive');
  await svc.objects.headBucket(bucket);

  checkStorageClass(r);
  checkCannedAcl(header(r, 'x-amz-acl'));
  const sameObject = source.bucket === bucket && source.key === key;
  // A new storage class is a change S3 accepts (every class is stored alike here).
  if (sameObject && metadataDirective === 'COPY' && taggingDirective === 'COPY' && header(r, 'x-amz-storage-class') === undefined) {
    throw new S3Error('InvalidRequest', "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");
  }
  // Within one store that copies by itself (S3 mounts of one endpoint), the bytes never pass through Strata.
  if (await svc.objects.canCopyWithinStore(source.bucket, bucket)) {
    const src = await svc.objects.headObject(source.bucket, source.key);
    checkCopyConditions(r, src);
    const status = await svc.objects.copyWithinStore(source, bucket, key, copyMeta(r, svc, src.meta, metadataDirective, taggingDirective), writeConditionsFrom(r));
    if (status) {
      r.log.bytesIn = status.size;
      sendXml(r, 200, xmlDocument('CopyObjectResult', { LastModified: isoDate(status.lastModified), ETag: quoteEtag(status.etag) }));
      return;
    }
  }

  const read = await svc.objects.getObject(source.bucket, source.key, () => null);
  try {
    const src = read.status;
    checkCopyConditions(r, src);
    const meta = copyMeta(r, svc, src.meta, metadataDirective, taggingDirective);
    const verifier = new BodyVerifier({});
    const status = await svc.objects.putObject(bucket, key, [read.body, verifier], () => ({
      etag: verifier.result.md5Hex,
      meta,
    }), writeConditionsFrom(r), { size: src.size, meta });
    r.log.bytesIn = status.size;
    sendXml(r, 200, xmlDocument('CopyObjectResult', { LastModified: isoDate(status.lastModified), ETag: quoteEtag(status.etag) }));
  } finally {
    read.body.destroy();
  }
}

/** The copy's metadata and tags, as the directives say. */
function copyMeta(r: S3Request, svc: Services, src: ObjectMeta, metadataDirective: 'COPY' | 'REPLACE', taggingDirective: 'COPY' | 'REPLACE'): ObjectMeta {
  // The copy is one object, not parts: a composite checksum (of parts) does not carry over.
  const checksums = Object.fromEntries(Object.entries(src.checksums).filter(([, v]) => !v.includes('-')));
  let meta: ObjectMeta;
  if (metadataDirective === 'REPLACE') {
    const stored = storedMetaFromRequest(r);
    checkUserMetadataSize(stored.userMetadata, svc.settings.maxMetadataBytes);
    meta = { ...stored, tags: src.tags, checksums };
  } else {
    meta = { ...src, owner: r.identity.user, checksums };
  }
  delete meta.partsCount;
  delete meta.parts;
  meta.checksumType = Object.keys(checksums).length ? 'FULL_OBJECT' : undefined;
  if (taggingDirective === 'REPLACE') {
    meta.tags = parseTaggingHeader(header(r, 'x-amz-tagging') ?? '');
    checkTags(meta.tags, svc.settings.taggingRestrictions);
  }
  return meta;
}

function directive(r: S3Request, name: string): 'COPY' | 'REPLACE' {
  const v = header(r, name);
  if (v === undefined) return 'COPY';
  const u = v.toUpperCase();
  if (u !== 'COPY' && u !== 'REPLACE') {
    throw new S3Error('InvalidArgument', `Unknown ${name}: ${v}`, { fields: { ArgumentName: name, ArgumentValue: v } });
  }
  return u;
}
