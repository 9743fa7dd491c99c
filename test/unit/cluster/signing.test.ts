import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MARKER_WINDOW_S, REDIRECT_TOKEN_TTL_S, signForward, signRedirect, verifyForward, verifyRedirect } from '../../../src/cluster/signing.js';

const SECRET = Buffer.from('s3cr3t');
const NOW = 1_800_000_000;

test('a forwarding marker verifies for the same method and target within the window only', () => {
  const m = signForward(SECRET, 'get', '/b/k?x=1', NOW);
  assert.ok(verifyForward(SECRET, m, 'GET', '/b/k?x=1', NOW));
  assert.ok(verifyForward(SECRET, m, 'GET', '/b/k?x=1', NOW + MARKER_WINDOW_S));
  assert.ok(!verifyForward(SECRET, m, 'GET', '/b/k?x=1', NOW + MARKER_WINDOW_S + 1));
  assert.ok(!verifyForward(SECRET, m, 'PUT', '/b/k?x=1', NOW));
  assert.ok(!verifyForward(SECRET, m, 'GET', '/b/k?x=2', NOW));
  assert.ok(!verifyForward(Buffer.from('other'), m, 'GET', '/b/k?x=1', NOW));
  for (const bad of ['', '.', 'abc', `${NOW}.`, `${NOW}.xyz`, `x.${m.split('.')[1]}`]) assert.ok(!verifyForward(SECRET, bad, 'GET', '/b/k?x=1', NOW), bad);
});

test("a marker signs the proxy cache's held version: none added, removed or changed verifies", () => {
  const held = signForward(SECRET, 'GET', '/b/k', NOW, 'v1');
  assert.ok(verifyForward(SECRET, held, 'GET', '/b/k', NOW, 'v1'));
  assert.ok(!verifyForward(SECRET, held, 'GET', '/b/k', NOW, 'v2'));
  assert.ok(!verifyForward(SECRET, held, 'GET', '/b/k', NOW));
  assert.ok(!verifyForward(SECRET, signForward(SECRET, 'GET', '/b/k', NOW), 'GET', '/b/k', NOW, 'v1'));
});

test('a redirect token carries the user and groups and binds method, path and expiry', () => {
  const alice = { user: 'alice@example' };
  const t = signRedirect(SECRET, 'PUT', '/b/a key/é', alice, NOW);
  assert.deepEqual(verifyRedirect(SECRET, t, 'PUT', '/b/a key/é', NOW), alice);
  assert.deepEqual(verifyRedirect(SECRET, t, 'PUT', '/b/a key/é', NOW + REDIRECT_TOKEN_TTL_S), alice);
  assert.equal(verifyRedirect(SECRET, t, 'PUT', '/b/a key/é', NOW + REDIRECT_TOKEN_TTL_S + 1), undefined);
  assert.equal(verifyRedirect(SECRET, t, 'GET', '/b/a key/é', NOW), undefined);
  assert.equal(verifyRedirect(SECRET, t, 'PUT', '/b/other', NOW), undefined);
  assert.equal(verifyRedirect(Buffer.from('other'), t, 'PUT', '/b/a key/é', NOW), undefined);
  // Another user, or groups, put into the token break the signature.
  const [exp, , , sig] = t.split('.');
  const b64 = (s: string) => Buffer.from(s).toString('base64url');
  assert.equal(verifyRedirect(SECRET, `${exp}.${b64('mallory')}..${sig}`, 'PUT', '/b/a key/é', NOW), undefined);
  assert.equal(verifyRedirect(SECRET, `${exp}.${b64('alice@example')}.${b64('["admins"]')}.${sig}`, 'PUT', '/b/a key/é', NOW), undefined);
  assert.equal(verifyRedirect(SECRET, 'garbage', 'PUT', '/b/a key/é', NOW), undefined);
  // Groups go along (authorization rules name them), and cannot be changed or dropped.
  const dana = { user: 'dana', groups: ['writers', 'a.b/c'] };
  const g = signRedirect(SECRET, 'GET', '/b/k', dana, NOW);
  assert.deepEqual(verifyRedirect(SECRET, g, 'GET', '/b/k', NOW), dana);
  const [e2, u2, , s2] = g.split('.');
  assert.equal(verifyRedirect(SECRET, `${e2}.${u2}..${s2}`, 'GET', '/b/k', NOW), undefined);
  assert.equal(verifyRedirect(SECRET, `${e2}.${u2}.${b64('["writers"]')}.${s2}`, 'GET', '/b/k', NOW), undefined);
});
