// The security pieces a worker process builds from its configuration: the authentication type,
// where credentials come from (a chain other sources can join: STS, etcd), the policy, and who
// may use the admin API. Each process builds its own; files are re-read on change by each.
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { ACTION_CATEGORIES } from '../actions/index.js';
import { type AuthenticationType, type Authenticator, createAuthenticator, createAuthorizer } from '../s3/auth/authenticate.js';
import { CredentialChain } from '../s3/auth/credentials.js';
import { CredentialsFile } from '../s3/auth/credentialsFile.js';
import { PolicyFile } from '../s3/auth/policy.js';
import { createFormAuthenticator, type FormAuthenticator } from '../s3/auth/postSignature.js';
import { verifySigV4 } from '../s3/auth/sigv4.js';
import { S3Error } from '../s3/errors.js';
import type { S3Request } from '../s3/handler.js';
import type { Config } from './config.js';

export interface Security {
  type: AuthenticationType;
  /** Where verified modes find secrets; sources may be added before the first request. */
  credentials: CredentialChain;
  authenticate: Authenticator;
  /** Who sends a POST Object form (its fields sign its policy). */
  authenticateForm: FormAuthenticator;
  authorize?: (r: S3Request) => void;
  /** Users (or group:<name>) of the admin API in verified modes. */
  adminUsers: readonly string[];
}

export function securityOf(config: Config, logger: Logger): Security {
  const type = config.string('strata.security.authentication.type') as AuthenticationType;
  const credentials = new CredentialChain();
  const file = config.path('strata.security.credentials.file');
  if (file) {
    credentials.add(new CredentialsFile(file, {
      onError: (e) => logger.error({ file, error: e.message }, 'credentials file not re-read; the previous keys stay in use'),
      onReload: () => logger.info({ file }, 'credentials file re-read'),
    }));
  } else if (type !== 'SIMPLE') {
    logger.warn('no strata.security.credentials.file: only keys from other sources (STS) are accepted');
  }
  const policyPath = config.path('strata.security.authorization.policy.file');
  const policy = policyPath
    ? new PolicyFile(policyPath, {
        onError: (e) => logger.error({ file: policyPath, error: e.message }, 'policy file not re-read; the previous policy stays in use'),
        onReload: () => logger.info({ file: policyPath }, 'policy file re-read'),
      })
    : undefined;
  return {
    type,
    credentials,
    authenticate: createAuthenticator(type, credentials),
    authenticateForm: createFormAuthenticator(type, credentials),
    authorize: policy ? createAuthorizer(policy, ACTION_CATEGORIES, logger) : undefined,
    adminUsers: config.list('strata.security.admin.users'),
  };
}

/**
 * The admin API's check in verified modes: a SigV4-signed request (service `s3` or `strata`) by
 * a user named in strata.security.admin.users (or a member of a `group:<name>` there). Undefined
 * in SIMPLE mode: the admin API stays open, as the spec's system has it.
 */
export function adminCheckOf(security: Security, logger: Logger): ((req: IncomingMessage) => { user: string } | { status: number; error: string; message: string }) | undefined {
  if (security.type === 'SIMPLE') return undefined;
  return (req) => {
    let user: string;
    let groups: readonly string[] | undefined;
    try {
      const v = verifySigV4(req, security.credentials, { services: ['s3', 'strata'] });
      user = v.credential.user;
      groups = v.credential.groups;
    } catch (e) {
      const err = e instanceof S3Error ? e : new S3Error('AccessDenied');
      return { status: err.code === 'AccessDenied' && !req.headers.authorization ? 401 : err.status, error: err.code, message: err.message };
    }
    const names = [user, ...(groups ?? []).map((g) => `group:${g}`)];
    if (security.adminUsers.some((u) => names.includes(u))) return { user };
    logger.warn({ type: 'authz', user, method: req.method, path: req.url }, 'admin API refused: not an admin user');
    return { status: 403, error: 'AccessDenied', message: `User ${user} is not in strata.security.admin.users.` };
  };
}
