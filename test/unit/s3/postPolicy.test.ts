// The POST policy language: decoding, validation, condition checks (pure functions).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPostPolicy, parsePostPolicy } from '../../../src/s3/auth/postPolicy.js';
import { S3Error } from '../../../src/s3/errors.js';

const NOW = new Date('2026-12-05T00:00:00Z');
const encode = (doc: unknown) => Buffer.from(JSON.stringify(doc)).toString('base64');
const policy = (conditions: unknown[]) => parsePostPolicy(encode({ expiration: '2026-12-06T00:00:00.000Z', conditions }), NOW);
const codeOf = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof S3Error);
    return e.code;
  }
};

test('parses the three condition forms, names in any case', () => {
  const p = policy([{ BUCKET: 'b' }, ['Starts-With', '$Key', 'user/'], ['EQ', '$acl', 'private'], ['content-length-range', '1', 10]]);
  assert.deepEqual(p.conditions, [
    { kind: 'eq', field: 'bucket', value: 'b' },
    { kind: 'starts-with', field: 'key', value: 'user/' },
    { kind: 'eq', field: 'acl', value: 'private' },
    { kind: 'content-length-range', min: 1, max: 10 },
  ]);
});

test('malformed documents are InvalidPolicyDocument; an expired one AccessDenied', () => {
  const bad = (doc: unknown) => codeOf(() => parsePostPolicy(encode(doc), NOW));
  assert.equal(codeOf(() => parsePostPolicy('not base64 json', NOW)), 'InvalidPolicyDocument');
  assert.equal(bad([]), 'InvalidPolicyDocument');
  assert.equal(bad({ conditions: [] }), 'InvalidPolicyDocument');
  assert.equal(bad({ expiration: '2026-12-06', conditions: [] }), 'InvalidPolicyDocument');
  assert.equal(bad({ expiration: '2026-12-06T00:00:00Z' }), 'InvalidPolicyDocument');
  assert.equal(bad({ expiration: '2026-12-06T00:00:00Z', conditions: [['ends-with', '$key', 'x']] }), 'InvalidPolicyDocument');
  assert.equal(bad({ expiration: '2026-12-06T00:00:00Z', conditions: [['eq', 'key', 'x']] }), 'InvalidPolicyDocument');
  assert.equal(bad({ expiration: '2026-12-06T00:00:00Z', conditions: [{ a: 'x', b: 'y' }] }), 'InvalidPolicyDocument');
  assert.equal(bad({ expiration: '2026-12-06T00:00:00Z', conditions: [['content-length-range', 5, 1]] }), 'InvalidPolicyDocument');
  assert.equal(bad({ expiration: '2026-12-04T00:00:00Z', conditions: [] }), 'AccessDenied');
});

test('every field and the bucket must be named; signature fields, file and x-ignore-* need not be', () => {
  const fields = new Map([['key', 'user/a'], ['policy', 'p'], ['x-amz-signature', 's'], ['x-ignore-me', '1'], ['content-type', 'text/plain']]);
  const p = policy([{ bucket: 'b' }, ['starts-with', '$key', 'user/'], ['starts-with', '$content-type', 'text/'], ['content-length-range', 0, 5]]);
  assert.deepEqual(checkPostPolicy(p, fields, 'b'), { min: 0, max: 5 });
  assert.equal(codeOf(() => checkPostPolicy(p, fields, 'other')), 'AccessDenied');
  assert.equal(codeOf(() => checkPostPolicy(policy([['starts-with', '$key', '']]), new Map([['key', 'k']]), 'b')), 'AccessDenied', 'bucket not named');
  assert.equal(codeOf(() => checkPostPolicy(p, new Map([...fields, ['x-amz-meta-a', '1']]), 'b')), 'AccessDenied', 'extra field');
});

test('a field not sent is empty: eq "" and starts-with "" hold, anything else does not', () => {
  const fields = new Map([['key', 'k']]);
  assert.equal(codeOf(() => checkPostPolicy(policy([{ bucket: 'b' }, ['eq', '$key', 'k'], ['eq', '$x-amz-meta-a', '']]), fields, 'b')), 'ok');
  assert.equal(codeOf(() => checkPostPolicy(policy([{ bucket: 'b' }, ['eq', '$key', 'k'], ['starts-with', '$x-amz-meta-a', 'v']]), fields, 'b')), 'AccessDenied');
});

test('starts-with on Content-Type holds for each type of a list', () => {
  const p = policy([{ bucket: 'b' }, ['eq', '$key', 'k'], ['starts-with', '$Content-Type', 'image/']]);
  assert.equal(codeOf(() => checkPostPolicy(p, new Map([['key', 'k'], ['content-type', 'image/png, image/jpeg']]), 'b')), 'ok');
  assert.equal(codeOf(() => checkPostPolicy(p, new Map([['key', 'k'], ['content-type', 'image/png, text/html']]), 'b')), 'AccessDenied');
});
