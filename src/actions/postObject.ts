// PostObject: a browser-based upload. A multipart/form-data form names the key, the stored headers
// and metadata, and (signed) a policy whose conditions the fields and the file's size must meet.
// The fields are checked before any of the file is read; the file then streams like a PutObject.
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html
import { Transform, type TransformCallback } from 'node:stream';
import { checkUserMetadataSize } from '../objects/limits.js';
import type { ObjectMeta } from '../ufs/ufs.js';
import { BodyVerifier } from '../s3/body/bodyVerifier.js';
import { MAX_KEY_BYTES } from '../s3/endpoint.js';
import { S3Error } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import { sendEmpty, sendXml } from '../s3/respond.js';
import { parseXml, xmlDocument } from '../s3/xml.js';
import { checkPostPolicy, parsePostPolicy } from '../s3/auth/postPolicy.js';
import { missingFormField } from '../s3/auth/postSignature.js';
import { readPostForm } from '../s3/postForm.js';
import type { Services } from './shared/services.js';
import { checkCannedAcl } from './shared/acl.js';
import { checkSendable, checkStorageClassValue, storedHeadersOf, storedMetaFromHeaders } from './shared/objectHeaders.js';
import { tagsOfDocument } from './shared/tagging.js';
import { MAX_PART_SIZE } from './shared/upload.js';
import { header, objectUrl, quoteEtag } from './shared/wire.js';

export async function postObject(r: S3Request, svc: Services): Promise<void> {
  const { bucket } = r.endpoint;
  if (!/^multipart\/form-data\s*;/i.test(header(r, 'content-type') ?? '')) {
    throw new S3Error('PreconditionFailed', undefined, { fields: { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' } });
  }
  const { fields, file, filename } = await readPostForm(r.req);
  let upload: Upload;
  try {
    upload = checkForm(r, svc, fields, filename);
  } catch (e) {
    // Refused before its file was read. The rest of the body is still read and dropped (the
    // handler does so) rather than the connection closed under it, which could lose the answer.
    file.destroy();
    throw e;
  }
  const { key, stored, tags, limit } = upload;
  const contentMd5 = fields.get('content-md5');
  if (svc.cluster?.ownedElsewhere(bucket, key)) {
    // Written by the key's owner, whose caches must see the change (as a proxied PutObject).
    file.once('error', (e) => limit.destroy(e));
    const headers: Record<string, string> = { ...storedHeadersOf(stored), ...(contentMd5 ? { 'content-md5': contentMd5 } : {}) };
    if (tags.length > 0) headers['x-amz-tagging'] = tags.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const etag = await svc.cluster.putOnOwner(bucket, key, r.identity, headers, file.pipe(limit));
    r.log.bytesIn = limit.bytes;
    answer(r, fields, bucket, key, etag);
    return;
  }
  const verifier = new BodyVerifier({ contentMd5 });
  const status = await svc.objects.putObject(bucket, key, [file, limit, verifier], () => ({
    etag: verifier.result.md5Hex,
    meta: { ...stored, tags, checksums: verifier.result.checksums },
  }));
  r.log.bytesIn = verifier.result.size;
  answer(r, fields, bucket, key, quoteEtag(status.etag));
}

interface Upload {
  key: string;
  stored: Omit<ObjectMeta, 'tags' | 'checksums'>;
  tags: Array<[string, string]>;
  limit: SizeLimit;
}

/** Everything that can refuse the form before its file is read: the key, who sends it, the policy, authorization, the stored headers. */
function checkForm(r: S3Request, svc: Services, fields: Map<string, string>, filename: string): Upload {
  const { bucket } = r.endpoint;
  // ${filename} stands for the file's name in every field, as S3 reads it.
  const name = filename.replace(/^.*[\\/]/, '');
  for (const [k, v] of fields) if (k !== 'policy' && v.includes('${filename}')) fields.set(k, v.replaceAll('${filename}', name));
  const key = fields.get('key');
  if (key === undefined) throw missingFormField('key');
  if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { fields: { ArgumentName: 'key', ArgumentValue: '' } });
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');

  // Who sends it, and whether the policy lets these fields through; then the usual authorization.
  r.identity = svc.forms.authenticate(fields);
  const policy = fields.get('policy');
  const sizes = policy !== undefined ? checkPostPolicy(parsePostPolicy(policy), fields, bucket) : undefined;
  r.endpoint = { ...r.endpoint, key };
  svc.forms.authorize?.(r);

  checkCannedAcl(fields.get('acl'), 'acl');
  checkStorageClassValue(fields.get('x-amz-storage-class'));
  // Values are text here; stored headers are kept as the bytes a header carries (read as Latin-1),
  // as a PutObject's are, so that both come back the same way.
  const stored = storedMetaFromHeaders(Object.fromEntries([...fields].map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('latin1')])), r.identity.user);
  checkSendable(stored);
  checkUserMetadataSize(stored.userMetadata, svc.settings.maxMetadataBytes);
  const tagging = fields.get('tagging');
  const tags = tagging ? tagsOfDocument(parseXml(tagging), svc) : [];
  return { key, stored, tags, limit: new SizeLimit(sizes?.min ?? 0, Math.min(sizes?.max ?? MAX_PART_SIZE, MAX_PART_SIZE)) };
}

/** S3's answers: a 303 to success_action_redirect, else the success_action_status asked for (200, 201 with a document, or 204). */
function answer(r: S3Request, fields: Map<string, string>, bucket: string, key: string, etag: string): void {
  const location = objectUrl(r, bucket, key);
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect && /^https?:\/\//i.test(redirect)) {
    const query = `bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}&etag=${encodeURIComponent(etag)}`;
    sendEmpty(r, 303, { Location: `${redirect}${redirect.includes('?') ? '&' : '?'}${query}`, ETag: etag });
    return;
  }
  const status = fields.get('success_action_status');
  if (status === '201') {
    sendXml(r, 201, xmlDocument('PostResponse', { Location: location, Bucket: bucket, Key: key, ETag: etag }, null), { ETag: etag, Location: location });
  } else {
    sendEmpty(r, status === '200' ? 200 : 204, { ETag: etag, Location: location });
  }
}

/** The file's size within the policy's content-length-range (and S3's 5 GiB): EntityTooLarge as soon as it is over, EntityTooSmall at its end. */
class SizeLimit extends Transform {
  private size = 0;

  get bytes(): number {
    return this.size;
  }

  constructor(private readonly min: number, private readonly max: number) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) return done(new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', { fields: { MaxSizeAllowed: String(this.max) } }));
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.size < this.min) return done(new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', { fields: { ProposedSize: String(this.size), MinSizeAllowed: String(this.min) } }));
    done();
  }
}
