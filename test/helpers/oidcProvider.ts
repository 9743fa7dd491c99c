// Starts a real OpenID provider (oidc-provider, see oidcProviderProcess.ts) on loopback for a
// test, and gets ID tokens from its token endpoint.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export interface TokenRequest {
  sub?: string;
  groups?: string[];
  preferredUsername?: string;
  /** Lifetime in seconds; negative gives a token that has already expired. */
  ttl?: number;
  /** The client asking, which becomes the token's audience: 'strata' (default) or 'other-app'. */
  client?: 'strata' | 'other-app';
}

export class OidcProvider {
  private constructor(readonly issuer: string, private readonly child: ChildProcess, private readonly ca?: Buffer) {}

  /** With `tls` (PEM files; the certificate is also the CA the helper trusts) the issuer is https. */
  static async start(tls?: { cert: string; key: string }): Promise<OidcProvider> {
    const args = [join(here, 'oidcProviderProcess.js'), ...(tls ? [tls.cert, tls.key] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const issuer = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`OpenID provider did not start: ${err}`)), 20_000);
      child.stdout!.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve((JSON.parse(out.slice(0, nl)) as { issuer: string }).issuer);
        }
      });
      child.once('exit', (code) => reject(new Error(`OpenID provider exited (${code}): ${err}`)));
    });
    return new OidcProvider(issuer, child, tls ? readFileSync(tls.cert) : undefined);
  }

  /** An ID token from the provider's token endpoint. */
  async idToken(t: TokenRequest = {}): Promise<string> {
    const client = t.client ?? 'strata';
    const form = new URLSearchParams({ grant_type: 'urn:strata:test:id-token', sub: t.sub ?? 'alice', ttl: String(t.ttl ?? 600) });
    if (t.groups) form.set('groups', t.groups.join(','));
    if (t.preferredUsername) form.set('preferred_username', t.preferredUsername);
    const body = JSON.parse(await this.send('POST', '/token', form.toString(), {
      authorization: `Basic ${Buffer.from(`${client}:${client}-secret`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded',
    })) as { id_token?: string; error?: string; error_description?: string };
    if (!body.id_token) throw new Error(`no ID token: ${body.error} ${body.error_description}`);
    return body.id_token;
  }

  /** A token for the right issuer and audience signed by a key the provider never published (same kid unless given). */
  async foreignToken(kid?: string): Promise<string> {
    return this.send('GET', `/_test/foreign${kid ? `?kid=${kid}` : ''}`);
  }

  /** A new signing key (the old one stays published); returns its kid. */
  async rotate(): Promise<string> {
    return (JSON.parse(await this.send('POST', '/_test/rotate')) as { kid: string }).kid;
  }

  /** One request to the provider (node:http(s), so a test CA can be trusted). */
  private send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<string> {
    const request = this.issuer.startsWith('https:') ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(`${this.issuer}${path}`, { method, headers, ca: this.ca }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
