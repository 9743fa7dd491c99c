// OidcVerifier against a real OpenID provider on loopback (oidc-provider in a child process).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { OidcVerifier, type OidcSettings, TokenRejected } from '../../../../src/s3/auth/oidc.js';
import { freePort } from '../../../helpers/worker.js';
import { OidcProvider } from '../../../helpers/oidcProvider.js';

let idp: OidcProvider;
const verifiers: OidcVerifier[] = [];

function verifier(extra: Partial<OidcSettings> = {}): OidcVerifier {
  const v = new OidcVerifier({
    issuer: idp.issuer, audiences: ['strata'], userClaim: 'sub', groupsClaim: 'groups', caFile: '',
    clockToleranceSec: 5, jwksCooldownMs: 0, timeoutMs: 5000, ...extra,
  });
  verifiers.push(v);
  return v;
}

async function rejected(p: Promise<unknown>, reason: TokenRejected['reason']): Promise<TokenRejected> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  assert.ok(e instanceof TokenRejected, `expected a rejection, got ${String(e)}`);
  assert.equal(e.reason, reason, e.message);
  return e;
}

before(async () => {
  idp = await OidcProvider.start();
});
after(async () => {
  for (const v of verifiers) v.close();
  await idp.stop();
});

test('a token from the provider names its user and groups', async () => {
  const id = await verifier().verify(await idp.idToken({ sub: 'alice', groups: ['dev', 'ops'] }));
  assert.deepEqual(id, { user: 'alice', groups: ['dev', 'ops'], subject: 'alice', audience: 'strata', issuer: idp.issuer });
});

test('the user claim is configurable; a token without it is refused', async () => {
  const v = verifier({ userClaim: 'preferred_username' });
  const id = await v.verify(await idp.idToken({ sub: 'u-123', preferredUsername: 'carol' }));
  assert.equal(id.user, 'carol');
  assert.equal(id.subject, 'u-123');
  assert.deepEqual(id.groups, []);
  await rejected(v.verify(await idp.idToken({ sub: 'u-124' })), 'invalid');
});

test('a token for another client (audience) is refused', async () => {
  const e = await rejected(verifier().verify(await idp.idToken({ client: 'other-app' })), 'invalid');
  assert.match(e.message, /aud/);
  const both = verifier({ audiences: ['strata', 'other-app'] });
  assert.equal((await both.verify(await idp.idToken({ client: 'other-app' }))).audience, 'other-app');
});

test('an expired token is refused as expired; the leeway forgives a little', async () => {
  await rejected(verifier().verify(await idp.idToken({ ttl: -60 })), 'expired');
  assert.equal((await verifier({ clockToleranceSec: 120 }).verify(await idp.idToken({ ttl: -60 }))).user, 'alice');
});

test('tokens signed by a key the provider never published are refused', async () => {
  const v = verifier();
  await rejected(v.verify(await idp.foreignToken()), 'invalid');
  await rejected(v.verify(await idp.foreignToken('made-up-kid')), 'invalid');
});

test('garbage and altered tokens are refused', async () => {
  const v = verifier();
  await rejected(v.verify('not a jwt'), 'invalid');
  await rejected(v.verify('a.b.c'), 'invalid');
  const [h, p, s] = (await idp.idToken({ sub: 'alice' })).split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'root' })).toString('base64url');
  await rejected(v.verify(`${h}.${forged}.${s}`), 'invalid');
  const none = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
  await rejected(v.verify(`${none}.${p}.`), 'invalid');
});

test('after the provider rotates its key, tokens with the new kid are accepted (JWKS fetched again)', async () => {
  const v = verifier();
  assert.equal((await v.verify(await idp.idToken({ sub: 'before' }))).user, 'before');
  const kid = await idp.rotate();
  const token = await idp.idToken({ sub: 'after' });
  assert.equal(JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).kid, kid);
  assert.equal((await v.verify(token)).user, 'after');
});

test('an issuer that cannot be reached, or whose discovery names another issuer, is reported as such', async () => {
  const gone = `http://127.0.0.1:${await freePort()}`;
  await rejected(verifier({ issuer: gone }).verify(await idp.idToken()), 'unreachable');
  await rejected(verifier({ issuer: `${idp.issuer}/` }).verify(await idp.idToken()), 'unreachable');
});

test('issuer and audience are required', () => {
  assert.throws(() => verifier({ issuer: '' }), /issuer/);
  assert.throws(() => verifier({ audiences: [] }), /audience/);
});

test('an https issuer signed by a private CA is trusted with strata.security.oidc.ca.file, and only then', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-oidc-ca-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=test-idp',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const tlsIdp = await OidcProvider.start({ cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') });
  try {
    assert.match(tlsIdp.issuer, /^https:/);
    const token = await tlsIdp.idToken({ sub: 'tls-user' });
    const base = { issuer: tlsIdp.issuer, audiences: ['strata'], userClaim: 'sub', groupsClaim: 'groups', clockToleranceSec: 5, jwksCooldownMs: 0, timeoutMs: 5000 };
    const trusting = new OidcVerifier({ ...base, caFile: join(dir, 'cert.pem') });
    const untrusting = new OidcVerifier({ ...base, caFile: '' });
    verifiers.push(trusting, untrusting);
    assert.equal((await trusting.verify(token)).user, 'tls-user');
    await rejected(untrusting.verify(token), 'unreachable');
  } finally {
    await tlsIdp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a remembered token stops being accepted when it expires', async () => {
  const v = verifier({ clockToleranceSec: 0 });
  const token = await idp.idToken({ sub: 'brief', ttl: 2 });
  assert.equal((await v.verify(token)).user, 'brief');
  assert.equal((await v.verify(token)).user, 'brief', 'the second time from memory');
  const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp as number;
  await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 200));
  await rejected(v.verify(token), 'expired');
});
