// strata.security.credentials.file: one `ACCESS_KEY SECRET_KEY [USER]` per line, `#` comments,
// USER defaulting to the access key. Re-read when it changes (WatchedFile). Secrets are kept
// non-enumerable, so logging a Credential or serializing it never shows them.
import type { Credential, CredentialSource } from './credentials.js';
import { WatchedFile } from './watchedFile.js';

export class CredentialsFile implements CredentialSource {
  private readonly file: WatchedFile<Map<string, Credential>>;

  constructor(path: string, opts: { intervalMs?: number; onError?: (e: Error) => void; onReload?: () => void } = {}) {
    this.file = new WatchedFile(path, parseCredentials, opts.intervalMs ?? 1000, opts.onError, opts.onReload);
  }

  lookup(accessKeyId: string): Credential | undefined {
    return this.file.get().get(accessKeyId);
  }

  /** How many key pairs the file holds now. */
  get size(): number {
    return this.file.get().size;
  }
}

/** Parses the file's text; a malformed line is an error naming its line number only (never its content). */
export function parseCredentials(text: string): Map<string, Credential> {
  const out = new Map<string, Credential>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    if (fields.length < 2 || fields.length > 3) {
      throw new Error(`credentials file line ${i + 1}: expected "ACCESS_KEY SECRET_KEY [USER]"`);
    }
    const [accessKeyId, secret, user] = fields;
    if (out.has(accessKeyId)) throw new Error(`credentials file line ${i + 1}: access key ${accessKeyId} appears twice`);
    out.set(accessKeyId, makeCredential(accessKeyId, secret, user ?? accessKeyId));
  }
  return out;
}

/** A Credential whose secret does not show in logs, JSON or util.inspect. */
export function makeCredential(accessKeyId: string, secretAccessKey: string, user: string, extra: Partial<Credential> = {}): Credential {
  const c = { accessKeyId, user, ...extra } as Credential;
  Object.defineProperty(c, 'secretAccessKey', { value: secretAccessKey, enumerable: false });
  return c;
}
