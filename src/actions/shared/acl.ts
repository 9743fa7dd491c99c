// ACLs as an unshared bucket has them: the owner with FULL_CONTROL, and only `private` accepted.
import type { S3Request } from '../../s3/handler.js';
import { S3Error } from '../../s3/errors.js';
import { sendXml } from '../../s3/respond.js';
import { arrayOf, elementOf, readXmlBody, textOf, xmlDocument } from '../../s3/xml.js';
import { ownerXml } from './wire.js';

const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const MAX_ACL_BYTES = 64 * 1024;
const OWNER_ONLY = new Set(['private', 'bucket-owner-full-control', 'bucket-owner-read']);
/** S3's canned ACLs: any other x-amz-acl is InvalidArgument. */
const CANNED_ACLS = new Set([...OWNER_ONLY, 'public-read', 'public-read-write', 'aws-exec-read', 'authenticated-read', 'log-delivery-write']);

/**
 * A canned ACL S3 knows (else InvalidArgument). Objects and buckets stay private to their owner
 * here: on a request that makes one, the ACL asked for is accepted and changes nothing.
 */
export function checkCannedAcl(value: string | undefined, name = 'x-amz-acl'): void {
  if (value !== undefined && !CANNED_ACLS.has(value)) {
    throw new S3Error('InvalidArgument', undefined, { fields: { ArgumentName: name, ArgumentValue: value } });
  }
}

export function sendOwnerOnlyAcl(r: S3Request, owner: string): void {
  sendXml(r, 200, xmlDocument('AccessControlPolicy', {
    Owner: ownerXml(owner),
    AccessControlList: {
      Grant: [{
        Grantee: { '@_xmlns:xsi': XSI, '@_xsi:type': 'CanonicalUser', ...ownerXml(owner) },
        Permission: 'FULL_CONTROL',
      }],
    },
  }));
}

/** Accepts a request that asks for what is already true (canned `private` or `bucket-owner-*`, or owner-only FULL_CONTROL); anything else is NotImplemented. */
export async function acceptPrivateAclOnly(r: S3Request, owner: string): Promise<void> {
  const h = r.req.headers;
  const canned = h['x-amz-acl'];
  checkCannedAcl(canned === undefined ? undefined : String(canned));
  // The bucket owner is every object's owner here: its canned grants say what private says.
  if (canned !== undefined && !OWNER_ONLY.has(String(canned))) throw notSupported(`the canned ACL "${canned}"`);
  const grant = Object.keys(h).find((n) => n.startsWith('x-amz-grant-'));
  if (grant) throw notSupported(`the header ${grant}`);
  const length = Number(h['content-length'] ?? 0);
  if (canned === undefined && length === 0 && !h['transfer-encoding']) {
    throw new S3Error('MissingSecurityHeader', 'Your request was missing a required header: x-amz-acl or an AccessControlPolicy body.');
  }
  if (length > 0 || h['transfer-encoding']) {
    const policy = elementOf(await readXmlBody(r.req, MAX_ACL_BYTES), 'AccessControlPolicy');
    const list = policy.AccessControlList === undefined ? {} : elementOf(policy, 'AccessControlList');
    for (const g of arrayOf(list.Grant)) {
      const grantee = (g.Grantee ?? {}) as Record<string, unknown>;
      if (textOf(g.Permission) !== 'FULL_CONTROL' || textOf(grantee.ID) !== owner) throw notSupported('grants to anyone but the owner');
    }
  }
}

function notSupported(what: string): S3Error {
  return new S3Error('NotImplemented', `Strata keeps every bucket and object private to its owner; ${what} is not supported.`);
}
