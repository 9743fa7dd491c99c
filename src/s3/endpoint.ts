// parseEndpoint: method + path + sub-resource -> which S3 action, pure (no I/O).
// S3 routes on the query's sub-resource names as much as on the method, which a generic
// web router does not model, so the table is ours and small.
import { S3Error } from './errors.js';

export type ActionName =
  | 'ListBuckets'
  | 'HeadBucket' | 'CreateBucket' | 'DeleteBucket'
  | 'ListObjects' | 'ListObjectsV2' | 'ListObjectVersions'
  | 'GetBucketLocation' | 'GetBucketVersioning'
  | 'GetBucketAcl' | 'PutBucketAcl'
  | 'GetBucketTagging' | 'PutBucketTagging' | 'DeleteBucketTagging'
  | 'ListMultipartUploads' | 'DeleteObjects'
  | 'GetObject' | 'HeadObject' | 'PutObject' | 'CopyObject' | 'DeleteObject'
  /** A browser-based upload: POST /bucket with a multipart/form-data form that names the key. */
  | 'PostObject'
  | 'GetObjectAcl' | 'PutObjectAcl'
  | 'GetObjectTagging' | 'PutObjectTagging' | 'DeleteObjectTagging'
  | 'GetObjectAttributes'
  | 'CreateMultipartUpload' | 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload' | 'ListParts'
  /** STS on the S3 port (POST / with a form, or ?Action=...): the action reads which STS call it is. */
  | 'AssumeRoleWithWebIdentity'
  /** A known S3 sub-resource Strata does not serve: answered NotImplemented. */
  | 'Unsupported';

export interface Endpoint {
  action: ActionName;
  /** '' for service-level requests. */
  bucket: string;
  /** Decoded object key; '' for bucket- and service-level requests. */
  key: string;
  /** Decoded query parameters ('+' read as a space, as S3 does). */
  query: Record<string, string>;
  /** For 'Unsupported': the sub-resource asked for. */
  subresource?: string;
}

/** Sub-resources S3 defines that Strata does not implement; a request naming one gets NotImplemented. */
const UNSUPPORTED_SUBRESOURCES = [
  'accelerate', 'analytics', 'cors', 'encryption', 'intelligent-tiering', 'inventory', 'legal-hold',
  'lifecycle', 'logging', 'metrics', 'notification', 'object-lock', 'ownershipControls', 'policy',
  'policyStatus', 'publicAccessBlock', 'replication', 'requestPayment', 'restore', 'retention', 'select',
  'torrent', 'website', 'metadataTable', 'session', 'renameObject',
] as const;

export const MAX_KEY_BYTES = 1024;

type ResourceType = 'SERVICE' | 'BUCKET' | 'OBJECT';

/** The methods a service, bucket or object takes at all. */
const RESOURCE_METHODS: Record<ResourceType, readonly string[]> = {
  SERVICE: ['GET', 'HEAD', 'POST'],
  BUCKET: ['HEAD', 'DELETE', 'POST', 'GET', 'PUT'],
  OBJECT: ['HEAD', 'DELETE', 'POST', 'GET', 'PUT'],
};

/**
 * The methods each sub-resource takes. Another method is 405: it must not fall through to the
 * plain operation (DELETE /bucket/key?acl deleting the object, PUT ?attributes overwriting it).
 */
const SUBRESOURCE_METHODS: Record<'BUCKET' | 'OBJECT', Record<string, readonly string[]>> = {
  BUCKET: { location: ['GET'], versioning: ['GET', 'PUT'], versions: ['GET'], acl: ['GET', 'PUT'], tagging: ['GET', 'PUT', 'DELETE'], uploads: ['GET'], delete: ['POST'] },
  OBJECT: { acl: ['GET', 'PUT'], tagging: ['GET', 'PUT', 'DELETE'], attributes: ['GET'], uploads: ['POST'], uploadId: ['GET', 'PUT', 'POST', 'DELETE'], partNumber: ['GET', 'HEAD', 'PUT'] },
};

/** Splits a raw query string; S3 reads '+' as a space, like HTML forms. Malformed escapes are InvalidArgument. */
export function parseQuery(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = decodeComponent(eq < 0 ? part : part.slice(0, eq), true);
    const value = eq < 0 ? '' : decodeComponent(part.slice(eq + 1), true);
    if (!(name in out)) out[name] = value;
  }
  return out;
}

function decodeComponent(s: string, plusIsSpace: boolean): string {
  const t = plusIsSpace ? s.replace(/\+/g, ' ') : s;
  try {
    return decodeURIComponent(t);
  } catch {
    throw new S3Error('InvalidURI', `Couldn't parse the specified URI: bad percent-encoding in "${s.slice(0, 100)}".`);
  }
}

/** Decodes method + request target into an Endpoint, or throws an S3Error for a malformed request. */
export function parseEndpoint(method: string, url: string): Endpoint {
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const query = parseQuery(q < 0 ? '' : url.slice(q + 1));
  if (!rawPath.startsWith('/')) throw new S3Error('InvalidURI', "Couldn't parse the specified URI.");

  // Path style: /<bucket>/<key...>; the key keeps '+' and every other literal character.
  const afterSlash = rawPath.slice(1);
  const slash = afterSlash.indexOf('/');
  const bucket = decodeComponent(slash < 0 ? afterSlash : afterSlash.slice(0, slash), false);
  const key = slash < 0 ? '' : decodeComponent(afterSlash.slice(slash + 1), false);
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');

  const m = method.toUpperCase();
  if (bucket === '') {
    if (m === 'POST' || (m === 'GET' && 'Action' in query)) return { action: 'AssumeRoleWithWebIdentity', bucket, key, query };
    if (m === 'GET' || m === 'HEAD') return { action: 'ListBuckets', bucket, key, query };
    throw methodNotAllowed(m, 'SERVICE');
  }
  if (!unsupported(query)) {
    for (const [sub, methods] of Object.entries(SUBRESOURCE_METHODS[key === '' ? 'BUCKET' : 'OBJECT'])) {
      if (sub in query && !methods.includes(m)) throw methodNotAllowed(m, key === '' ? 'BUCKET' : 'OBJECT', methods);
    }
  }
  return key === '' ? bucketAction(m, bucket, query) : objectAction(m, bucket, key, query);
}

function unsupported(query: Record<string, string>): string | undefined {
  return UNSUPPORTED_SUBRESOURCES.find((s) => s in query);
}

/** 405 with the methods that the resource (or its sub-resource) takes, as S3 answers it. */
function methodNotAllowed(method: string, type: ResourceType, allowed: readonly string[] = RESOURCE_METHODS[type]): S3Error {
  return new S3Error('MethodNotAllowed', undefined, { fields: { Method: method, ResourceType: type }, headers: { Allow: allowed.join(', ') } });
}

function bucketAction(m: string, bucket: string, query: Record<string, string>): Endpoint {
  const ep = (action: ActionName): Endpoint => ({ action, bucket, key: '', query });
  const sub = unsupported(query);
  if (sub) return { ...ep('Unsupported'), subresource: sub };
  switch (m) {
    case 'GET':
      if ('location' in query) return ep('GetBucketLocation');
      if ('versioning' in query) return ep('GetBucketVersioning');
      if ('versions' in query) return ep('ListObjectVersions');
      if ('acl' in query) return ep('GetBucketAcl');
      if ('tagging' in query) return ep('GetBucketTagging');
      if ('uploads' in query) return ep('ListMultipartUploads');
      if (query['list-type'] === '2') return ep('ListObjectsV2');
      if ('list-type' in query) throw new S3Error('InvalidArgument', 'Invalid list-type: only 2 is supported.', { fields: { ArgumentName: 'list-type', ArgumentValue: query['list-type'] } });
      return ep('ListObjects');
    case 'HEAD':
      return ep('HeadBucket');
    case 'PUT':
      if ('acl' in query) return ep('PutBucketAcl');
      if ('tagging' in query) return ep('PutBucketTagging');
      if ('versioning' in query) return { ...ep('Unsupported'), subresource: 'versioning' };
      return ep('CreateBucket');
    case 'DELETE':
      if ('tagging' in query) return ep('DeleteBucketTagging');
      return ep('DeleteBucket');
    case 'POST':
      if ('delete' in query) return ep('DeleteObjects');
      return ep('PostObject');
    default:
      throw methodNotAllowed(m, 'BUCKET');
  }
}

function objectAction(m: string, bucket: string, key: string, query: Record<string, string>): Endpoint {
  const ep = (action: ActionName): Endpoint => ({ action, bucket, key, query });
  const sub = unsupported(query);
  if (sub) return { ...ep('Unsupported'), subresource: sub };
  // Acting on the current object instead would be wrong: a DELETE of an old version removing it.
  if (query.versionId !== undefined && query.versionId !== 'null') throw new S3Error('NoSuchVersion', 'Strata keeps no versions: only the version id "null" exists.');
  switch (m) {
    case 'GET':
      if ('acl' in query) return ep('GetObjectAcl');
      if ('tagging' in query) return ep('GetObjectTagging');
      if ('attributes' in query) return ep('GetObjectAttributes');
      if ('uploadId' in query) return ep('ListParts');
      return ep('GetObject');
    case 'HEAD':
      return ep('HeadObject');
    case 'PUT':
      if ('acl' in query) return ep('PutObjectAcl');
      if ('tagging' in query) return ep('PutObjectTagging');
      if ('uploadId' in query || 'partNumber' in query) return ep('UploadPart');
      return ep('PutObject');
    case 'DELETE':
      if ('tagging' in query) return ep('DeleteObjectTagging');
      if ('uploadId' in query) return ep('AbortMultipartUpload');
      return ep('DeleteObject');
    case 'POST':
      if ('uploads' in query) return ep('CreateMultipartUpload');
      if ('uploadId' in query) return ep('CompleteMultipartUpload');
      throw methodNotAllowed(m, 'OBJECT');
    default:
      throw methodNotAllowed(m, 'OBJECT');
  }
}

/** PUT with x-amz-copy-source is a copy; the header decides, so the handler refines after parsing. */
export function refineWithHeaders(ep: Endpoint, headers: Record<string, string | string[] | undefined>): Endpoint {
  if (headers['x-amz-copy-source'] === undefined) return ep;
  if (ep.action === 'PutObject') return { ...ep, action: 'CopyObject' };
  if (ep.action === 'UploadPart') return { ...ep, action: 'UploadPartCopy' };
  return ep;
}

/**
 * Virtual-hosted style: with `Host: <bucket>.<domain>` for one of the configured domains, the
 * bucket comes from the host and the whole path is the key. Returns the request target in path
 * style (`/<bucket>/<key>`), or the target unchanged when the host names no bucket.
 */
export function pathStyleTarget(target: string, host: string | undefined, domains: readonly string[]): string {
  if (!host || domains.length === 0) return target;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  for (const domain of domains) {
    const suffix = `.${domain.toLowerCase()}`;
    if (name.endsWith(suffix) && name.length > suffix.length) {
      const bucket = name.slice(0, -suffix.length);
      return `/${bucket}${target.startsWith('/') ? target : `/${target}`}`;
    }
  }
  return target;
}
