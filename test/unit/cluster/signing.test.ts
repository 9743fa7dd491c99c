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

test('a redirect token carries the user and binds method, path and expiry', () => {
  const t = signRedirect(SECRET, 'PUT', '/b/a key/é', 'alice@example', NOW);
  assert.equal(verifyRedirect(SECRET, t, 'PUT', '/b/a key/é', NOW), 'alice@example');
  assert.equal(verifyRedirect(SECRET, t, 'PUT', '/b/a key/é', NOW + REDIRECT_TOKEN_TTL_S), 'alice@example');
  assert.equal(verifyRedirect(SECRET, t, 'PUT', '/b/a key/é', NOW + REDIRECT_TOKEN_TTL_S + 1), undefined);
  assert.equal(verifyRedirect(SECRET, t, 'GET', '/b/a key/é', NOW), undefined);
  assert.equal(verifyRedirect(SECRET, t, 'PUT', '/b/other', NOW), undefined);
  assert.equal(verifyRedirect(Buffer.from('other'), t, 'PUT', '/b/a key/é', NOW), undefined);
  // Another user put into the token breaks the signature.
  const [exp, , sig] = t.split('.');
  assert.equal(verifyRedirect(SECRET, `${exp}.${Buffer.from('mallory').toString('base64url')}.${sig}`, 'PUT', '/b/a key/é', NOW), undefined);
  assert.equal(verifyRedirect(SECRET, 'garbage', 'PUT', '/b/a key/é', NOW), undefined);
});
