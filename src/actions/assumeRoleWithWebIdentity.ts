// STS AssumeRoleWithWebIdentity on the S3 port (as MinIO and other S3 stores serve it): an OpenID
// Connect ID token in, temporary credentials out. Parameters come as a form body (POST /, what the
// AWS SDKs send) or in the query. Errors are STS's <ErrorResponse>. Served in OIDC mode only.
import type { IncomingMessage } from 'node:http';
import { TokenRejected } from '../s3/auth/oidc.js';
import { parseQuery } from '../s3/endpoint.js';
import { S3Error, toStsError } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import { sendXml, XML_DECLARATION } from '../s3/respond.js';
import { listBuckets } from './listBuckets.js';
import type { Services, StsService } from './shared/services.js';

const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const MAX_FORM_BYTES = 64 * 1024;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

export async function assumeRoleWithWebIdentity(r: S3Request, svc: Services): Promise<void> {
  if (!svc.sts) {
    // Without OIDC, / is what it always was: ListBuckets for GET, nothing for POST.
    if (r.req.method === 'GET') return listBuckets(r, svc);
    throw new S3Error('MethodNotAllowed', `The specified method (${r.req.method}) is not allowed against this resource.`);
  }
  try {
    await answer(r, svc.sts);
  } catch (e) {
    throw toStsError(e);
  }
}

async function answer(r: S3Request, sts: StsService): Promise<void> {
  const p = { ...r.endpoint.query, ...(r.req.method === 'POST' ? await readForm(r.req) : {}) };
  if (!p.Action) throw new S3Error('MissingAction', 'The request must contain the parameter Action.');
  if (p.Action !== 'AssumeRoleWithWebIdentity' || (p.Version !== undefined && p.Version !== '2011-06-15')) {
    throw new S3Error('InvalidAction', `Could not find operation ${p.Action} for version ${p.Version ?? 'NO_VERSION_SPECIFIED'}; this endpoint serves only AssumeRoleWithWebIdentity.`);
  }
  const token = p.WebIdentityToken;
  if (!token) throw new S3Error('MissingParameter', 'The request must contain the parameter WebIdentityToken.');
  const session = p.RoleSessionName;
  if (session !== undefined && !SESSION_NAME.test(session)) {
    throw validation('roleSessionName', session, 'Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}');
  }
  const seconds = durationOf(p.DurationSeconds, sts);

  let id;
  try {
    id = await sts.oidc.verify(token);
  } catch (e) {
    if (!(e instanceof TokenRejected)) throw e;
    const code = e.reason === 'expired' ? 'ExpiredTokenException' : e.reason === 'unreachable' ? 'IDPCommunicationError' : 'InvalidIdentityToken';
    throw new S3Error(code, e.message);
  }
  const creds = sts.credentials.issue(id.user, id.groups, new Date(Date.now() + seconds * 1000));
  r.identity = { ...r.identity, user: id.user };
  r.log.note = `sts: ${creds.accessKeyId} for ${id.user} until ${creds.expiration.toISOString()}`;

  const sessionName = session ?? sanitize(id.user);
  const role = p.RoleArn?.split('/').pop() || 'strata';
  const x = escapeXml;
  sendXml(r, 200,
    `${XML_DECLARATION}<AssumeRoleWithWebIdentityResponse xmlns="${STS_XMLNS}"><AssumeRoleWithWebIdentityResult>` +
    `<SubjectFromWebIdentityToken>${x(id.subject)}</SubjectFromWebIdentityToken>` +
    `<Audience>${x(id.audience)}</Audience>` +
    `<AssumedRoleUser><Arn>arn:aws:sts::000000000000:assumed-role/${x(role)}/${x(sessionName)}</Arn>` +
    `<AssumedRoleId>${creds.accessKeyId}:${x(sessionName)}</AssumedRoleId></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${creds.accessKeyId}</AccessKeyId><SecretAccessKey>${x(creds.secretAccessKey)}</SecretAccessKey>` +
    `<SessionToken>${x(creds.sessionToken)}</SessionToken><Expiration>${creds.expiration.toISOString().replace('.000Z', 'Z')}</Expiration></Credentials>` +
    `<Provider>${x(id.issuer)}</Provider>` +
    `</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>${r.requestId}</RequestId></ResponseMetadata>` +
    '</AssumeRoleWithWebIdentityResponse>');
}

/** DurationSeconds within the configured limits (AWS: 900..43200), or the default. */
function durationOf(raw: string | undefined, sts: StsService): number {
  if (raw === undefined || raw === '') return sts.defaultSeconds;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < sts.minSeconds) throw validation('durationSeconds', raw, `Member must have value greater than or equal to ${sts.minSeconds}`);
  if (n > sts.maxSeconds) throw validation('durationSeconds', raw, `Member must have value less than or equal to ${sts.maxSeconds}`);
  return n;
}

function validation(member: string, value: string, constraint: string): S3Error {
  return new S3Error('ValidationError', `1 validation error detected: Value '${value.slice(0, 100)}' at '${member}' failed to satisfy constraint: ${constraint}`);
}

/** The form body (application/x-www-form-urlencoded), at most 64 KiB. */
async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const type = req.headers['content-type'] ?? '';
  if (Number(req.headers['content-length'] ?? 0) > MAX_FORM_BYTES) throw new S3Error('ValidationError', `The request body is over ${MAX_FORM_BYTES} bytes.`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_FORM_BYTES) throw new S3Error('ValidationError', `The request body is over ${MAX_FORM_BYTES} bytes.`);
    chunks.push(c);
  }
  if (size === 0) return {};
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    throw new S3Error('InvalidParameterValue', 'The request body must be application/x-www-form-urlencoded.');
  }
  return parseQuery(Buffer.concat(chunks).toString('utf8'));
}

function sanitize(user: string): string {
  const s = user.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return s.length >= 2 ? s : `${s}--`.slice(0, 2);
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
