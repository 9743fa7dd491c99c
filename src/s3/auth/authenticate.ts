// Establishing who acts (the mode's authenticator) and whether they may (the policy), as the
// handler calls them for every request.
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { type CopySource, parseCopySource } from '../copySource.js';
import type { ActionName, Endpoint } from '../endpoint.js';
import { S3Error } from '../errors.js';
import type { S3Request } from '../handler.js';
import type { CredentialSource } from './credentials.js';
import type { AccessRequest, Category } from './policy.js';
import { identifySimple, type Identity } from './simple.js';
import { attachStreamSigning, verifySigV4 } from './sigv4.js';

export type AuthenticationType = 'SIMPLE' | 'SIGV4' | 'OIDC';
export type Authenticator = (req: IncomingMessage, endpoint: Endpoint) => Identity | Promise<Identity>;

/**
 * SIMPLE: the named user, unchecked. SIGV4 and OIDC: a verified SigV4 signature (header or
 * presigned URL) by a key the source knows; anything else is refused.
 */
export function createAuthenticator(type: AuthenticationType, source?: CredentialSource): Authenticator {
  if (type === 'SIMPLE') return (req, endpoint) => identifySimple(req.headers.authorization, endpoint.query);
  if (!source) throw new Error(`authentication type ${type} needs a credential source (strata.security.credentials.file)`);
  return (req) => {
    const v = verifySigV4(req, source);
    attachStreamSigning(req.headers, v.signing, v.credential.accessKeyId);
    return { user: v.credential.user, via: v.via, groups: v.credential.groups, accessKeyId: v.credential.accessKeyId };
  };
}

export interface PolicyCheck {
  allows(a: AccessRequest): boolean;
}

/** Throws AccessDenied (and logs the denial) when the policy refuses the request or its copy source. */
export function createAuthorizer(policy: PolicyCheck, categories: Record<ActionName, Category>, logger: Logger): (r: S3Request) => void {
  return (r) => {
    for (const a of accessRequestsOf(r, categories[r.endpoint.action])) {
      if (policy.allows(a)) continue;
      logger.warn({ type: 'authz', requestId: r.requestId, user: r.identity.user, action: r.endpoint.action, category: a.category, bucket: a.bucket, path: a.path }, 'access denied by policy');
      throw new S3Error('AccessDenied');
    }
  };
}

const LISTINGS: ReadonlySet<ActionName> = new Set(['ListObjects', 'ListObjectsV2', 'ListObjectVersions', 'ListMultipartUploads']);

/** What a request does, as the policy sees it: the action itself, and reading a copy source. */
export function accessRequestsOf(r: S3Request, category: Category): AccessRequest[] {
  const { action, bucket, key, query } = r.endpoint;
  const base = { user: r.identity.user, groups: r.identity.groups };
  const path = key !== '' ? key : LISTINGS.has(action) ? (query.prefix ?? '') : undefined;
  const out: AccessRequest[] = [{ ...base, category, bucket, path, wholeBucket: action === 'DeleteObjects' }];
  if (action === 'CopyObject' || action === 'UploadPartCopy') {
    const source = copySourceOf(r);
    if (source) out.push({ ...base, category: 'read', bucket: source.bucket, path: source.key });
  }
  return out;
}

function copySourceOf(r: S3Request): CopySource | undefined {
  try {
    return parseCopySource(r);
  } catch {
    return undefined; // the action refuses it
  }
}
