// OpenID Connect ID tokens: found by discovery (`<issuer>/.well-known/openid-configuration`),
// verified with jose against the issuer's JWKS (cached; fetched again when a token names an
// unknown key id, at most once per cooldown). Used by `Authorization: Bearer` and by STS.
import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, get as httpGet } from 'node:http';
import { Agent as HttpsAgent, get as httpsGet } from 'node:https';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';

export interface OidcSettings {
  /** Issuer URL exactly as tokens carry it in `iss`. */
  issuer: string;
  /** Client ids accepted in `aud` (one must match). */
  audiences: readonly string[];
  /** Claim naming the user (e.g. sub, preferred_username, email). */
  userClaim: string;
  /** Claim listing the user's groups (array of strings, or one string). */
  groupsClaim: string;
  /** PEM file of the CA that signed the issuer's certificate; empty: the system's CAs. */
  caFile: string;
  /** Leeway for exp/nbf/iat, seconds. */
  clockToleranceSec: number;
  /** Least time between two JWKS fetches caused by unknown key ids, ms. */
  jwksCooldownMs: number;
  /** Longest wait for the issuer's answers, ms. */
  timeoutMs: number;
}

/** Who a valid ID token names. */
export interface OidcIdentity {
  user: string;
  groups: string[];
  /** The `sub` claim. */
  subject: string;
  /** The accepted audience the token carries. */
  audience: string;
  issuer: string;
}

/** Why a token is refused: expired, not valid (signature, issuer, audience, shape), or the issuer could not be asked. */
export class TokenRejected extends Error {
  constructor(readonly reason: 'expired' | 'invalid' | 'unreachable', message: string) {
    super(message);
    this.name = 'TokenRejected';
  }
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/** ID tokens are signed with the issuer's published (public) keys: never HMAC, never none. */
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Verified tokens remembered (Bearer clients send the same one on every request). */
const CACHE_ENTRIES = 10_000;

export class OidcVerifier {
  private keys?: Promise<KeySet>;
  /** token -> identity and until when it holds (its exp plus the leeway); oldest first. */
  private readonly verified = new Map<string, { id: OidcIdentity; untilMs: number }>();
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(readonly settings: OidcSettings) {
    if (!settings.issuer) throw new Error('strata.security.oidc.issuer must be set for OIDC authentication');
    if (settings.audiences.length === 0) throw new Error('strata.security.oidc.audience must name the accepted client id(s) for OIDC authentication');
    const https = settings.issuer.startsWith('https:');
    const ca = settings.caFile ? readFileSync(settings.caFile) : undefined;
    this.agent = https ? new HttpsAgent({ ca }) : new HttpAgent();
  }

  /** The identity a token names, or TokenRejected. */
  async verify(token: string): Promise<OidcIdentity> {
    const hit = this.verified.get(token);
    if (hit && Date.now() < hit.untilMs) return hit.id;
    if (hit) this.verified.delete(token);
    if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) throw new TokenRejected('invalid', 'The token is not a signed JWT.');
    const keys = await this.keySet();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: this.settings.issuer,
        audience: [...this.settings.audiences],
        clockTolerance: this.settings.clockToleranceSec,
        requiredClaims: ['exp'],
        algorithms: ASYMMETRIC,
      }));
    } catch (e) {
      throw rejection(e);
    }
    const user = payload[this.settings.userClaim];
    if (typeof user !== 'string' || user === '') {
      throw new TokenRejected('invalid', `The token has no "${this.settings.userClaim}" claim (strata.security.oidc.user.claim).`);
    }
    const auds = Array.isArray(payload.aud) ? payload.aud : [payload.aud ?? ''];
    const id: OidcIdentity = {
      user,
      groups: groupsOf(payload[this.settings.groupsClaim]),
      subject: payload.sub ?? user,
      audience: auds.find((a) => this.settings.audiences.includes(a)) ?? '',
      issuer: this.settings.issuer,
    };
    this.remember(token, id, (payload.exp! + this.settings.clockToleranceSec) * 1000);
    return id;
  }

  private remember(token: string, id: OidcIdentity, untilMs: number): void {
    if (this.verified.size >= CACHE_ENTRIES) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { id, untilMs });
  }

  close(): void {
    this.agent.destroy();
  }

  /** The issuer's key set, found by discovery once; a failed discovery is tried again by the next token. */
  private keySet(): Promise<KeySet> {
    if (!this.keys) {
      this.keys = this.discover().catch((e) => {
        this.keys = undefined;
        throw e;
      });
    }
    return this.keys;
  }

  private async discover(): Promise<KeySet> {
    const url = `${this.settings.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      doc = JSON.parse(await this.fetchText(url));
    } catch (e) {
      throw new TokenRejected('unreachable', `The OpenID provider's discovery document could not be read (${(e as Error).message}).`);
    }
    if (doc.issuer !== this.settings.issuer) {
      throw new TokenRejected('unreachable', `The discovery document names issuer "${String(doc.issuer)}", not the configured "${this.settings.issuer}".`);
    }
    if (typeof doc.jwks_uri !== 'string') throw new TokenRejected('unreachable', 'The discovery document has no jwks_uri.');
    return createRemoteJWKSet(new URL(doc.jwks_uri), {
      agent: this.agent,
      cooldownDuration: this.settings.jwksCooldownMs,
      timeoutDuration: this.settings.timeoutMs,
    });
  }

  private fetchText(url: string): Promise<string> {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    return new Promise((resolve, reject) => {
      const req = get(url, { agent: this.agent as HttpsAgent, timeout: this.settings.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 1024 * 1024) req.destroy(new Error('answer over 1 MiB'));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
          else resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
    });
  }
}

function groupsOf(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
  if (typeof claim === 'string' && claim !== '') return [claim];
  return [];
}

/** jose's errors in our three kinds; messages say what failed, never echo the token. */
function rejection(e: unknown): TokenRejected {
  if (e instanceof TokenRejected) return e;
  if (e instanceof joseErrors.JWTExpired) return new TokenRejected('expired', 'The token has expired.');
  if (e instanceof joseErrors.JWTClaimValidationFailed) return new TokenRejected('invalid', `The token's "${e.claim}" claim is not accepted (${e.reason}).`);
  if (e instanceof joseErrors.JWKSNoMatchingKey) return new TokenRejected('invalid', "The token is signed with a key the issuer's JWKS does not have.");
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenRejected('invalid', 'The token signature is not valid.');
  if (e instanceof joseErrors.JWKSTimeout) return new TokenRejected('unreachable', "The issuer's JWKS could not be fetched in time.");
  if (e instanceof joseErrors.JOSEError) return new TokenRejected('invalid', `The token is not valid (${e.code}).`);
  return new TokenRejected('unreachable', `The issuer's JWKS could not be fetched (${(e as Error)?.message ?? e}).`);
}
