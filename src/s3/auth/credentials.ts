// Where verified authentication (SIGV4, OIDC) finds the secret of an access key. Several sources
// are asked in order: the credentials file, temporary credentials issued by STS, etcd in a cluster.
// A secret is never logged nor put in an error message.

/** A key pair Strata knows, and who acts when a request is signed with it. */
export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** The acting user (owner of what it writes; what authorization decides on). */
  user: string;
  /** OIDC groups of the user, for authorization. */
  groups?: readonly string[];
  /** Temporary credentials: the x-amz-security-token that must come with every request. */
  sessionToken?: string;
  /** Temporary credentials: when they stop working (ExpiredToken after this). */
  expiresAt?: Date;
}

/** One place credentials come from. */
export interface CredentialSource {
  /**
   * The credential of an access key, or undefined when this source does not know it. The request's
   * x-amz-security-token is given too: temporary credentials may be carried in it (stateless STS).
   */
  lookup(accessKeyId: string, sessionToken?: string): Credential | undefined;
}

/** Asks each source in turn; the first that knows the key answers. */
export class CredentialChain implements CredentialSource {
  private readonly sources: CredentialSource[] = [];

  add(source: CredentialSource): this {
    this.sources.push(source);
    return this;
  }

  lookup(accessKeyId: string, sessionToken?: string): Credential | undefined {
    for (const s of this.sources) {
      const c = s.lookup(accessKeyId, sessionToken);
      if (c) return c;
    }
    return undefined;
  }
}
