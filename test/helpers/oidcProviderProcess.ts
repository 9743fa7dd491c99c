// A real OpenID provider (oidc-provider) on loopback, run as a child process by oidcProvider.ts.
// Its clients get ID tokens without a browser through a custom grant type on its token endpoint
// (the provider's own IdToken model signs them with the keys its discovery document points at).
// /_test/rotate replaces the signing key (the old one stays published); /_test/foreign signs with a
// key the provider never published. Prints {"issuer": ...} once it listens. With arguments
// `<cert.pem> <key.pem>` it serves https.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import Provider from 'oidc-provider';

const GRANT = 'urn:strata:test:id-token';
const clients = ['strata', 'other-app'].map((id) => ({
  client_id: id,
  client_secret: `${id}-secret`,
  grant_types: [GRANT],
  response_types: [],
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
}));

async function newKey(kid: string) {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' };
}

function makeProvider(issuer: string, keys: object[]): Provider {
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: keys as never },
    cookies: { keys: ['test-cookie-key'] },
    features: { devInteractions: { enabled: false } },
  });
  // Responses to the token endpoint: { id_token } for sub, groups and preferred_username given as parameters.
  provider.registerGrantType(GRANT, async (ctx: any, next: () => Promise<void>) => {
    const p = ctx.oidc.params as Record<string, string | undefined>;
    const token = new provider.IdToken({ sub: p.sub ?? 'user' }, { ctx });
    (token as unknown as { scope: string }).scope = 'openid';
    if (p.groups) token.set('groups', p.groups.split(',').filter(Boolean));
    if (p.preferred_username) token.set('preferred_username', p.preferred_username);
    const ttl = Number(p.ttl ?? '600');
    const expiresAt = Math.floor(Date.now() / 1000) + ttl;
    ctx.body = { id_token: await token.issue({ use: 'idtoken', expiresAt }), token_type: 'Bearer', expires_in: ttl };
    await next();
  }, ['sub', 'groups', 'preferred_username', 'ttl']);
  return provider;
}

let keys = [await newKey('key-1')];
const foreignKey = await newKey('key-1');
let serial = 1;
let provider: Provider | undefined;
let callback: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;

const [certFile, keyFile] = process.argv.slice(2);
const tls = certFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : undefined;
const serve = (req: IncomingMessage, res: ServerResponse) => {
  if (req.url === '/_test/rotate' && req.method === 'POST') {
    void (async () => {
      keys = [await newKey(`key-${++serial}`), ...keys];
      provider = makeProvider(issuer, keys);
      callback = provider.callback();
      res.end(JSON.stringify({ kid: keys[0].kid }));
    })();
    return;
  }
  if (req.url?.startsWith('/_test/foreign')) {
    void (async () => {
      const q = new URL(req.url!, issuer).searchParams;
      const { importJWK } = await import('jose');
      const jwt = await new SignJWT({ sub: q.get('sub') ?? 'mallory' })
        .setProtectedHeader({ alg: 'RS256', kid: q.get('kid') ?? foreignKey.kid })
        .setIssuer(issuer)
        .setAudience('strata')
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(await importJWK(foreignKey, 'RS256'));
      res.end(jwt);
    })();
    return;
  }
  callback(req, res);
};
const server = tls ? createHttpsServer(tls, serve) : createServer(serve);
server.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
provider = makeProvider(issuer, keys);
callback = provider.callback();
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
