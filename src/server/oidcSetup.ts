// OIDC mode's parts, from configuration: the ID-token verifier, the stateless temporary
// credentials (signed with the cluster secret, so every process and a restarted worker know them),
// STS for the action table and the authenticator for the handler.
import type { StsService } from '../actions/shared/services.js';
import { OidcVerifier } from '../s3/auth/oidc.js';
import { oidcAuthenticator } from '../s3/auth/oidcAuth.js';
import { TemporaryCredentials } from '../s3/auth/temporaryCredentials.js';
import type { Authenticator } from '../s3/auth/authenticate.js';
import { loadClusterSecret } from './clusterSecret.js';
import type { Config } from './config.js';

export interface OidcSetup {
  sts: StsService;
  authenticate: Authenticator;
}

/** Undefined unless strata.security.authentication.type=OIDC; throws on an incomplete OIDC configuration. */
/** `clusterSecret`: the secret the cluster runtime settled on (etcd's in ETCD mode), so every worker knows the credentials. */
export async function oidcSetup(config: Config, workDir: string, signed?: Authenticator, clusterSecret?: Buffer): Promise<OidcSetup | undefined> {
  if (config.string('strata.security.authentication.type') !== 'OIDC') return undefined;
  const oidc = new OidcVerifier({
    issuer: config.string('strata.security.oidc.issuer'),
    audiences: config.list('strata.security.oidc.audience'),
    userClaim: config.string('strata.security.oidc.user.claim'),
    groupsClaim: config.string('strata.security.oidc.groups.claim'),
    caFile: config.path('strata.security.oidc.ca.file'),
    clockToleranceSec: config.durationMs('strata.security.oidc.clock.tolerance') / 1000,
    jwksCooldownMs: config.durationMs('strata.security.oidc.jwks.refresh.cooldown'),
    timeoutMs: config.durationMs('strata.security.oidc.timeout'),
  });
  const seconds = (key: string) => Math.floor(config.durationMs(key) / 1000);
  const sts: StsService = {
    oidc,
    credentials: new TemporaryCredentials(clusterSecret ?? (await loadClusterSecret(config.string('strata.cluster.secret'), workDir))),
    defaultSeconds: seconds('strata.security.sts.duration.default'),
    minSeconds: seconds('strata.security.sts.duration.min'),
    maxSeconds: seconds('strata.security.sts.duration.max'),
  };
  if (!(sts.minSeconds <= sts.defaultSeconds && sts.defaultSeconds <= sts.maxSeconds)) {
    throw new Error('strata.security.sts.duration.default must lie between strata.security.sts.duration.min and .max');
  }
  return { sts, authenticate: oidcAuthenticator(oidc, signed) };
}
