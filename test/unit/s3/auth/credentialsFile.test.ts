import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { test } from 'node:test';
import { CredentialsFile, parseCredentials } from '../../../../src/s3/auth/credentialsFile.js';

test('lines, comments, default user; the secret stays out of JSON and inspect', () => {
  const m = parseCredentials('# comment\n\nAK1 se/cr+et= alice\n  AK2\tsecret2  \n');
  assert.equal(m.get('AK1')!.user, 'alice');
  assert.equal(m.get('AK1')!.secretAccessKey, 'se/cr+et=');
  assert.equal(m.get('AK2')!.user, 'AK2');
  assert.ok(!JSON.stringify(m.get('AK1')).includes('se/cr'));
  assert.ok(!inspect(m.get('AK1')).includes('se/cr'));
});

test('a malformed line is an error naming its number, never its content', () => {
  assert.throws(() => parseCredentials('AK1 s1\nonlyonefield-SECRETISH\n'), (e: Error) => /line 2/.test(e.message) && !e.message.includes('SECRETISH'));
  assert.throws(() => parseCredentials('AK1 s1\nAK1 s2\n'), /twice/);
});

test('re-read when it changes; a broken new version keeps the last good one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-creds-'));
  try {
    const path = join(dir, 'creds');
    writeFileSync(path, 'AK1 s1\n');
    const errors: string[] = [];
    const f = new CredentialsFile(path, { intervalMs: 0, onError: (e) => errors.push(e.message) });
    assert.equal(f.lookup('AK1')!.secretAccessKey, 's1');
    writeFileSync(path, 'AK1 s1-new\nAK2 s2 bob\n');
    assert.equal(f.lookup('AK1')!.secretAccessKey, 's1-new');
    assert.equal(f.lookup('AK2')!.user, 'bob');
    writeFileSync(path, 'garbage line with too many fields\n');
    assert.equal(f.lookup('AK2')!.user, 'bob');
    assert.equal(errors.length, 1);
    assert.throws(() => new CredentialsFile(join(dir, 'missing')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
