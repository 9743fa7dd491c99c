// Who sends a browser-based upload (POST Object): the form's fields name the key and sign the
// policy (SigV4: x-amz-credential, x-amz-date, x-amz-signature; SigV2: AWSAccessKeyId, signature).
// SIMPLE mode takes the key's name as the user, unchecked, as it does for headers; the verified
// modes check the signature of the policy with the key's secret.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html
import { createHmac } from 'node:crypto';
import { S3Error } from '../errors.js';
import type { AuthenticationType } from './authenticate.js';
import { ALGORITHM, parseAmzDate, signatureOf, signingKey } from './canonical.js';
import type { CredentialSource } from './credentials.js';
import { type Identity, workerUser } from './simple.js';
import { knownCredential, sameText } from './sigv4.js';

/** Form fields by lower-case name. */
export type FormFields = ReadonlyMap<string, string>;
export type FormAuthenticator = (fields: FormFields, now?: Date) => Identity;

interface FormSignature {
  accessKeyId: string;
  /** Checks the signature of the policy with the key's secret. */
  matches(secret: string, policy: string): boolean;
}

/** InvalidArgument naming a field the form must have, in S3's words. */
export function missingFormField(field: string): S3Error {
  return new S3Error('InvalidArgument', `Bucket POST must contain a field named '${field}'. If it is specified, please check the order of the fields.`, {
    fields: { ArgumentName: field, ArgumentValue: '' },
  });
}

function required(fields: FormFields, name: string): string {
  const v = fields.get(name);
  if (v === undefined || v === '') throw missingFormField(name);
  return v;
}

const V4_FIELDS = ['x-amz-algorithm', 'x-amz-credential', 'x-amz-date', 'x-amz-signature'];
const V2_FIELDS = ['awsaccesskeyid', 'signature'];

/** The signature a signed form carries; undefined for an anonymous form (no policy). */
function formSignature(fields: FormFields): FormSignature | undefined {
  const signed = [...V4_FIELDS, ...V2_FIELDS].some((f) => fields.has(f));
  if (!fields.has('policy')) {
    if (signed) throw missingFormField('policy');
    return undefined;
  }
  if (V4_FIELDS.some((f) => fields.has(f)) || !V2_FIELDS.some((f) => fields.has(f))) {
    const algorithm = required(fields, 'x-amz-algorithm');
    if (algorithm !== ALGORITHM) {
      throw new S3Error('InvalidArgument', `Unsupported x-amz-algorithm: only ${ALGORITHM} is.`, { fields: { ArgumentName: 'x-amz-algorithm', ArgumentValue: algorithm } });
    }
    const credential = required(fields, 'x-amz-credential');
    const amzDate = required(fields, 'x-amz-date');
    const signature = required(fields, 'x-amz-signature');
    const parts = credential.split('/');
    const [date, region, service, terminator] = parts.slice(-4);
    if (parts.length < 5 || terminator !== 'aws4_request' || service !== 's3' || !/^\d{8}$/.test(date)) {
      throw new S3Error('InvalidArgument', 'x-amz-credential must be <key>/<date>/<region>/s3/aws4_request.', { fields: { ArgumentName: 'x-amz-credential', ArgumentValue: credential } });
    }
    if (!parseAmzDate(amzDate) || amzDate.slice(0, 8) !== date) {
      throw new S3Error('InvalidArgument', 'x-amz-date must be yyyyMMddTHHmmssZ, of the day the credential names.', { fields: { ArgumentName: 'x-amz-date', ArgumentValue: amzDate } });
    }
    return {
      accessKeyId: parts.slice(0, -4).join('/'),
      matches: (secret, policy) => sameText(signatureOf(signingKey(secret, date, region, service), policy), signature.toLowerCase()),
    };
  }
  const accessKeyId = required(fields, 'awsaccesskeyid');
  const signature = required(fields, 'signature');
  return {
    accessKeyId,
    matches: (secret, policy) => sameText(createHmac('sha1', secret).update(policy, 'utf8').digest('base64'), signature),
  };
}

/** SIMPLE: the named key is the user. SIGV4 and OIDC: a policy signed by a key the source knows. */
export function createFormAuthenticator(type: AuthenticationType, source?: CredentialSource): FormAuthenticator {
  return (fields, now = new Date()) => {
    const signed = formSignature(fields);
    if (type === 'SIMPLE') return signed ? { user: signed.accessKeyId, via: 'post-policy' } : { user: workerUser(), via: 'anonymous' };
    if (!signed) throw new S3Error('AccessDenied', 'Anonymous uploads are not accepted: this worker requires a signed POST policy (strata.security.authentication.type).');
    if (!source) throw new S3Error('AccessDenied', 'No credentials are configured on this worker.');
    const credential = knownCredential(source, signed.accessKeyId, fields.get('x-amz-security-token'), now);
    if (!signed.matches(credential.secretAccessKey, fields.get('policy')!)) {
      throw new S3Error('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.', {
        fields: { AWSAccessKeyId: signed.accessKeyId },
      });
    }
    return { user: credential.user, groups: credential.groups, accessKeyId: credential.accessKeyId, via: 'post-policy' };
  };
}
