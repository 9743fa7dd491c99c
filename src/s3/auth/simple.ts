// SIMPLE authentication, as the spec's system does it: the user is the access key named in the
// request (SigV4 Authorization header, presigned query, or a SigV2 header), never checked. A
// presigned URL still expires (its time window is checked, not its signature).
// Without any credentials the request runs as the user who started the worker.
import { userInfo } from 'node:os';
import { S3Error } from '../errors.js';
import { checkPresignedWindow, checkSigV2Expiry } from './presignedWindow.js';

export interface Identity {
  /** The acting user: recorded as the owner of what it writes. */
  user: string;
  /** How the request named its user, for the access log. */
  via: 'sigv4-header' | 'sigv4-query' | 'sigv2-header' | 'sigv2-query' | 'anonymous' | 'oidc-bearer' | 'redirect-token' | 'post-policy';
  /** Verified modes: OIDC groups of the user, for authorization. */
  groups?: readonly string[];
  /** Verified modes: the access key that signed. */
  accessKeyId?: string;
}

let processUser: string | undefined;
export function workerUser(): string {
  if (processUser === undefined) {
    try {
      processUser = userInfo().username;
    } catch {
      processUser = 'strata';
    }
  }
  return processUser;
}

const SIGV4_CREDENTIAL = /(?:^|[\s,])Credential=([^,\s]*)/;

/** Finds the user a request names, or throws AuthorizationHeaderMalformed for a header it cannot read. */
export function identifySimple(authorization: string | undefined, query: Record<string, string>, now = new Date()): Identity {
  if (authorization !== undefined && authorization !== '') {
    if (authorization.startsWith('AWS4-HMAC-SHA256 ')) {
      const m = SIGV4_CREDENTIAL.exec(authorization);
      const access = m ? accessKeyOfCredential(m[1]) : '';
      if (!access || !/SignedHeaders=/.test(authorization) || !/Signature=/.test(authorization)) {
        throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; it must name Credential, SignedHeaders and Signature.');
      }
      return { user: access, via: 'sigv4-header' };
    }
    if (authorization.startsWith('AWS ')) {
      const rest = authorization.slice(4);
      const colon = rest.lastIndexOf(':');
      if (colon <= 0) throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; expected "AWS AccessKeyId:Signature".');
      return { user: rest.slice(0, colon), via: 'sigv2-header' };
    }
    throw new S3Error('AuthorizationHeaderMalformed', 'The authorization header is malformed; the authorization mechanism is not supported.');
  }
  const credential = query['X-Amz-Credential'];
  if (credential !== undefined) {
    const access = accessKeyOfCredential(credential);
    if (!access) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Credential must be of the form <key>/<date>/<region>/<service>/aws4_request.');
    checkPresignedWindow(query['X-Amz-Date'], query['X-Amz-Expires'], now);
    return { user: access, via: 'sigv4-query' };
  }
  if (query['AWSAccessKeyId']) {
    checkSigV2Expiry(query['Expires'], now);
    return { user: query['AWSAccessKeyId'], via: 'sigv2-query' };
  }
  return { user: workerUser(), via: 'anonymous' };
}

/** `AKID/20240101/us-east-1/s3/aws4_request` -> `AKID` (the key itself may contain '/': keep all but the 4 scope parts). */
function accessKeyOfCredential(credential: string): string {
  const parts = credential.split('/');
  if (parts.length < 5) return '';
  return parts.slice(0, parts.length - 4).join('/');
}
