// Temporary credentials issued by STS (AssumeRoleWithWebIdentity), stateless: the session token
// carries who they are for and until when, signed with the cluster secret, and the secret key is
// derived from the cluster secret. So every S3 process, and the worker after a restart (or another
// worker with the same secret), knows them without shared state.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Credential, CredentialSource } from './credentials.js';
import { makeCredential } from './credentialsFile.js';

/** What an issued set of temporary credentials is. */
export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** The claims a session token carries. */
interface TokenClaims {
  /** Access key id the token belongs to. */
  k: string;
  /** User. */
  u: string;
  /** Groups. */
  g: string[];
  /** Expiry, seconds since the epoch. */
  e: number;
}

const TOKEN_VERSION = 'strata1';
/** AWS temporary keys start with ASIA; keeping the shape lets tools recognise them. */
const KEY_PREFIX = 'ASIA';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Session tokens already checked, per process (a client sends the same one on every request). */
const CACHE_ENTRIES = 10_000;

export class TemporaryCredentials implements CredentialSource {
  private readonly tokenKey: Buffer;
  private readonly secretKey: Buffer;
  private readonly checked = new Map<string, Credential>();

  constructor(clusterSecret: Buffer) {
    if (clusterSecret.length === 0) throw new Error('temporary credentials need a non-empty cluster secret');
    // Separate keys per use, so a value of one kind can never stand in for another.
    this.tokenKey = hmac(clusterSecret, 'strata-sts-session-token');
    this.secretKey = hmac(clusterSecret, 'strata-sts-secret-key');
  }

  /** New credentials for `user` (and `groups`) valid until `expiration`. */
  issue(user: string, groups: readonly string[], expiration: Date): IssuedCredentials {
    const accessKeyId = KEY_PREFIX + randomKeyChars(16);
    const claims: TokenClaims = { k: accessKeyId, u: user, g: [...groups], e: Math.floor(expiration.getTime() / 1000) };
    const payload = Buffer.from(JSON.stringify(claims), 'utf8').toString('base64url');
    const signature = hmac(this.tokenKey, `${TOKEN_VERSION}.${payload}`).toString('base64url');
    return {
      accessKeyId,
      secretAccessKey: this.secretFor(accessKeyId, claims.e),
      sessionToken: `${TOKEN_VERSION}.${payload}.${signature}`,
      expiration: new Date(claims.e * 1000),
    };
  }

  /**
   * The credential a session token stands for, when the token is ours, untampered and names this
   * access key; undefined otherwise. Expired credentials are returned too (with expiresAt in the
   * past): the verifier answers ExpiredToken for them rather than InvalidAccessKeyId.
   */
  lookup(accessKeyId: string, sessionToken?: string): Credential | undefined {
    if (!sessionToken) return undefined;
    const known = this.checked.get(sessionToken);
    if (known) return known.accessKeyId === accessKeyId ? known : undefined;
    const claims = this.readToken(sessionToken);
    if (!claims || claims.k !== accessKeyId) return undefined;
    // The secret is non-enumerable, as for the credentials file: logging a Credential never shows it.
    const credential = makeCredential(accessKeyId, this.secretFor(accessKeyId, claims.e), claims.u, {
      groups: claims.g,
      sessionToken,
      expiresAt: new Date(claims.e * 1000),
    });
    if (this.checked.size >= CACHE_ENTRIES) this.checked.delete(this.checked.keys().next().value!);
    this.checked.set(sessionToken, credential);
    return credential;
  }

  private readToken(token: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== TOKEN_VERSION) return undefined;
    const expected = hmac(this.tokenKey, `${parts[0]}.${parts[1]}`);
    const given = Buffer.from(parts[2], 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const c = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
      if (typeof c.k !== 'string' || typeof c.u !== 'string' || !Array.isArray(c.g) || !Number.isFinite(c.e)) return undefined;
      return c;
    } catch {
      return undefined;
    }
  }

  private secretFor(accessKeyId: string, expirySeconds: number): string {
    // 40 characters, as AWS secret keys are.
    return hmac(this.secretKey, `${accessKeyId}|${expirySeconds}`).toString('base64').slice(0, 40);
  }
}

function hmac(key: Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function randomKeyChars(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}
