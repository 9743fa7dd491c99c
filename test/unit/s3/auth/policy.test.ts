import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AccessRequest, isAllowed, parsePolicy } from '../../../../src/s3/auth/policy.js';

const policy = parsePolicy(JSON.stringify({
  rules: [
    { principals: ['admin'], actions: ['*'], buckets: ['*'] },
    { principals: ['bob', 'group:readers'], actions: ['read', 'list'], buckets: ['data', 'logs-*'], prefixes: ['public/'] },
    { principals: ['*'], actions: ['write'], buckets: ['drop'] },
    { principals: ['*'], actions: ['*'], buckets: ['drop'], prefixes: ['locked/'], effect: 'deny' },
  ],
}));
const ask = (a: Partial<AccessRequest>): boolean => isAllowed(policy, { user: 'bob', category: 'read', bucket: 'data', ...a });

test('users, groups, categories, buckets (with *), prefixes', () => {
  assert.ok(ask({ path: 'public/a' }));
  assert.ok(!ask({ path: 'private/a' }));
  assert.ok(!ask({ category: 'write', path: 'public/a' }));
  assert.ok(ask({ bucket: 'logs-2024', category: 'list', path: 'public/' }));
  assert.ok(!ask({ bucket: 'logs-2024', category: 'list', path: '' }), 'listing the whole bucket is beyond public/');
  assert.ok(ask({ user: 'carol', groups: ['readers'], path: 'public/x' }));
  assert.ok(!ask({ user: 'carol', path: 'public/x' }));
  assert.ok(ask({ path: undefined }), 'bucket-level reads are covered by a prefixed rule');
  assert.ok(ask({ user: 'admin', category: 'admin', bucket: 'anything' }));
  assert.ok(ask({ bucket: '', category: 'list' }), 'ListBuckets');
});

test('deny rules win; whole-bucket requests need a rule without prefixes', () => {
  assert.ok(ask({ user: 'x', bucket: 'drop', category: 'write', path: 'in/a' }));
  assert.ok(!ask({ user: 'x', bucket: 'drop', category: 'write', path: 'locked/a' }));
  assert.ok(!ask({ user: 'x', bucket: 'drop', category: 'write', wholeBucket: true }), 'DeleteObjects may reach locked/');
  assert.ok(!ask({ category: 'write', wholeBucket: true }));
  assert.ok(ask({ user: 'admin', category: 'write', wholeBucket: true }));
});

test('malformed policies are refused with where they are wrong', () => {
  assert.throws(() => parsePolicy('{'), /not JSON/);
  assert.throws(() => parsePolicy('{"rules": [{"principals": ["a"], "actions": ["fly"], "buckets": ["*"]}]}'), /rules\[0\]\.actions/);
  assert.throws(() => parsePolicy('{"rules": [{"principals": "a", "actions": ["read"], "buckets": ["*"]}]}'), /principals/);
});
