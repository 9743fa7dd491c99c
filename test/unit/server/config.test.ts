import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Config, parseProperties } from '../../../src/server/config.js';
import { configDocument, parseDuration, parseSize } from '../../../src/server/configSchema.js';
import { REPO_ROOT } from '../../helpers/worker.js';

test('durations and sizes as the contract writes them', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('3s'), 3000);
  assert.equal(parseDuration('3sec'), 3000);
  assert.equal(parseDuration('1min'), 60000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration('-1'), -1);
  assert.equal(parseSize('2KB'), 2048);
  assert.equal(parseSize('512MB'), 512 * 1024 ** 2);
  assert.equal(parseSize('1GB'), 1024 ** 3);
  assert.equal(parseSize('77'), 77);
  assert.throws(() => parseDuration('3 fortnights'));
  assert.throws(() => parseSize('-1KB'));
});

test('defaults, alluxio.* aliases and precedence flags > env > file > default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-conf-'));
  const file = join(dir, 'strata.properties');
  writeFileSync(file, '# comment\nalluxio.worker.rest.port=1111\nstrata.worker.web.port = 2222\nalluxio.worker.s3.header.metadata.max.size=4KB\n');
  assert.equal(new Config().int('strata.worker.rest.port'), 29998);
  assert.equal(new Config().int('alluxio.worker.s3.https.port'), 29996);
  const c = new Config({ file, env: { STRATA_WORKER_WEB_PORT: '3333' }, overrides: { 'alluxio.worker.web.port': '4444' } });
  assert.equal(c.int('strata.worker.rest.port'), 1111);
  assert.equal(c.int('strata.worker.web.port'), 4444);
  assert.equal(c.bytes('strata.worker.s3.header.metadata.max.size'), 4096);
  assert.equal(c.raw('alluxio.worker.rest.port'), '1111');
  assert.equal(new Config({ env: { STRATA_WORKER_WEB_PORT: '3333' } }).int('strata.worker.web.port'), 3333);
});

test('invalid values are refused with the key named', () => {
  assert.throws(() => new Config({ overrides: { 'strata.worker.rest.port': 'eighty' } }), /strata.worker.rest.port/);
  assert.throws(() => new Config({ overrides: { 'strata.worker.s3.redirect.enabled': 'yes' } }), /true or false/);
  assert.throws(() => new Config({ overrides: { 'strata.security.authentication.type': 'KERBEROS' } }), /one of/);
});

test('properties files accept = and : separators', () => {
  assert.deepEqual(parseProperties('a=1\nb: 2\n! bang comment\n  c = x=y\n'), { a: '1', b: '2', c: 'x=y' });
});

test('docs/configuration.md is the one the schema generates (run `strata conf docs > docs/configuration.md`)', () => {
  assert.equal(readFileSync(join(REPO_ROOT, 'docs', 'configuration.md'), 'utf8'), configDocument());
});
