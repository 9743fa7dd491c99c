// Stateless temporary credentials: what one instance issues, another with the same secret knows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inspect } from 'node:util';
import { CredentialChain } from '../../../../src/s3/auth/credentials.js';
import { TemporaryCredentials } from '../../../../src/s3/auth/temporaryCredentials.js';

const secret = Buffer.from('a cluster secret of some length', 'utf8');
const inAnHour = () => new Date(Date.now() + 3600_000);

test('issued credentials look like AWS temporary ones', () => {
  const c = new TemporaryCredentials(secret).issue('alice', ['dev'], inAnHour());
  assert.match(c.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
  assert.equal(c.secretAccessKey.length, 40);
  assert.ok(c.sessionToken.length > 40);
  assert.equal(c.expiration.getMilliseconds(), 0);
});

test('another instance with the same secret (another process, or after a restart) finds them', () => {
  const c = new TemporaryCredentials(secret).issue('alice', ['dev', 'ops'], inAnHour());
  const found = new TemporaryCredentials(Buffer.from(secret)).lookup(c.accessKeyId, c.sessionToken);
  assert.ok(found);
  assert.equal(found.accessKeyId, c.accessKeyId);
  assert.equal(found.secretAccessKey, c.secretAccessKey);
  assert.equal(found.user, 'alice');
  assert.deepEqual(found.groups, ['dev', 'ops']);
  assert.equal(found.sessionToken, c.sessionToken);
  assert.equal(found.expiresAt?.getTime(), c.expiration.getTime());
});

test('a chain asks the temporary source with the session token', () => {
  const t = new TemporaryCredentials(secret);
  const c = t.issue('bob', [], inAnHour());
  const chain = new CredentialChain().add({ lookup: () => undefined }).add(t);
  assert.equal(chain.lookup(c.accessKeyId, c.sessionToken)?.user, 'bob');
  assert.equal(chain.lookup(c.accessKeyId), undefined);
});

test('another cluster secret knows nothing of them', () => {
  const c = new TemporaryCredentials(secret).issue('alice', [], inAnHour());
  assert.equal(new TemporaryCredentials(Buffer.from('another secret')).lookup(c.accessKeyId, c.sessionToken), undefined);
});

test('a token is only good for the key it was issued with', () => {
  const t = new TemporaryCredentials(secret);
  const a = t.issue('alice', [], inAnHour());
  const b = t.issue('alice', [], inAnHour());
  assert.equal(t.lookup(b.accessKeyId, a.sessionToken), undefined);
  assert.equal(t.lookup(a.accessKeyId, undefined), undefined);
});

test('tampered tokens are refused', () => {
  const t = new TemporaryCredentials(secret);
  const c = t.issue('alice', ['dev'], inAnHour());
  const [v, payload, sig] = c.sessionToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  for (const change of [{ u: 'root' }, { g: ['admin'] }, { e: claims.e + 86400 }]) {
    const forged = Buffer.from(JSON.stringify({ ...claims, ...change })).toString('base64url');
    assert.equal(t.lookup(c.accessKeyId, `${v}.${forged}.${sig}`), undefined, JSON.stringify(change));
  }
  const flipped = Buffer.from(sig, 'base64url');
  flipped[0] ^= 1;
  for (const bad of [`${v}.${payload}.${flipped.toString('base64url')}`, `${v}.${payload}.`, `${v}.${payload}`, 'x.y.z', '', '..', `strata0.${payload}.${sig}`]) {
    assert.equal(t.lookup(c.accessKeyId, bad), undefined, bad);
  }
});

test('expired credentials are still recognised, with their expiry, so the verifier can say ExpiredToken', () => {
  const t = new TemporaryCredentials(secret);
  const c = t.issue('alice', [], new Date(Date.now() - 1000));
  const found = t.lookup(c.accessKeyId, c.sessionToken);
  assert.ok(found?.expiresAt && found.expiresAt.getTime() < Date.now());
});

test('the secret of a found credential does not show when it is logged or serialized', () => {
  const t = new TemporaryCredentials(secret);
  const c = t.issue('alice', [], inAnHour());
  const found = t.lookup(c.accessKeyId, c.sessionToken)!;
  assert.equal(found.secretAccessKey, c.secretAccessKey);
  assert.ok(!JSON.stringify(found).includes(c.secretAccessKey));
  assert.ok(!inspect(found).includes(c.secretAccessKey));
  assert.equal(t.lookup(c.accessKeyId, c.sessionToken), found, 'the second lookup from memory');
});
