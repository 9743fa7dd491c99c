// OIDC mode: a request is authenticated by `Authorization: Bearer <ID token>` (plain HTTP clients),
// or by a SigV4 signature made with temporary credentials from AssumeRoleWithWebIdentity (checked
// by the SigV4 verifier given as `signed`). The STS call itself carries its token in the body.
import type { Endpoint } from '../endpoint.js';
import { S3Error } from '../errors.js';
import type { Authenticator } from './authenticate.js';
import { type OidcVerifier, TokenRejected } from './oidc.js';
import type { Identity } from './simple.js';

export function oidcAuthenticator(oidc: OidcVerifier, signed?: Authenticator): Authenticator {
  return async (req, endpoint: Endpoint): Promise<Identity> => {
    const authorization = req.headers.authorization ?? '';
    if (/^Bearer /i.test(authorization)) return bearer(oidc, authorization.slice(7).trim());
    if (endpoint.action === 'AssumeRoleWithWebIdentity') return { user: '-', via: 'anonymous' };
    if (signed) return signed(req, endpoint);
    throw new S3Error('AccessDenied', 'This worker authenticates with OIDC: send Authorization: Bearer <ID token>, or sign with temporary credentials from AssumeRoleWithWebIdentity.');
  };
}

async function bearer(oidc: OidcVerifier, token: string): Promise<Identity> {
  try {
    const id = await oidc.verify(token);
    return { user: id.user, groups: id.groups, via: 'oidc-bearer' };
  } catch (e) {
    if (!(e instanceof TokenRejected)) throw e;
    if (e.reason === 'expired') throw new S3Error('ExpiredToken', e.message);
    if (e.reason === 'unreachable') throw new S3Error('ServiceUnavailable', e.message);
    throw new S3Error('InvalidToken', e.message);
  }
}
