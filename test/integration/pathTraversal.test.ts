// Path traversal through every route that takes a key or a copy source: hostile keys (encoded
// `..`, `%2e%2e`, backslashes, absolute paths, unicode dot look-alikes) never read, write or
// delete a file outside the mount.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { rawRequest } from '../helpers/http.js';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const SECRET = 'the secret outside the mount';

/** Raw path segments as a hostile client would send them (no client-side normalization). */
const HOSTILE = [
  '../../secret.txt',
  '..%2F..%2Fsecret.txt',
  '%2e%2e/%2e%2e/secret.txt',
  '%2E%2E%2F%2E%2E%2Fsecret.txt',
  'a/../../../secret.txt',
  '..\\..\\secret.txt',
  '%5C..%5C..%5Csecret.txt',
  '/%2Fetc%2Fpasswd',
  '//secret.txt',
  '.%2F..%2F..%2Fsecret.txt',
  '%EF%BC%8E%EF%BC%8E/%EF%BC%8E%EF%BC%8E/secret.txt',
  '%E2%80%A5/secret.txt',
  'x%00/../../secret.txt',
];

let w: RunningWorker;

const send = (method: string, path: string, body = '', headers: Record<string, string> = {}) => rawRequest(w.s3Port, method, path, body, headers);

/** Every file under the work folder that is not inside the mounted bucket's folder. */
function filesOutsideBuckets(): string[] {
  const out: string[] = [];
  const mount = join(w.rootUfs, 'data');
  // The page cache keeps its pages in the work dir: Strata's own files, not a key's.
  const cache = join(w.workDir, 'cache');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (p === mount || p === cache) continue;
      if (e.isDirectory()) walk(p);
      else out.push(relative(w.workDir, p));
    }
  };
  walk(w.workDir);
  return out.sort();
}

before(async () => {
  w = await startWorker();
  writeFileSync(join(w.workDir, 'secret.txt'), SECRET);
  writeFileSync(join(w.rootUfs, 'secret.txt'), SECRET);
});
after(() => w.stop());

test('hostile keys through every key-taking route never touch a file outside the mount', { timeout: 120_000 }, async () => {
  const before = filesOutsideBuckets();
  const secretStat = statSync(join(w.workDir, 'secret.txt'));
  await send('PUT', '/data/legit', 'legit');
  for (const hostile of HOSTILE) {
    const path = `/data/${hostile}`;
    const answers = [
      await send('PUT', path, 'overwrite'),
      await send('GET', path),
      await send('HEAD', path),
      await send('GET', `${path}?tagging`),
      await send('PUT', `${path}?tagging`, '<Tagging><TagSet><Tag><Key>a</Key><Value>b</Value></Tag></TagSet></Tagging>'),
      await send('GET', `${path}?attributes`, '', { 'x-amz-object-attributes': 'ETag' }),
      await send('GET', `${path}?acl`),
      await send('POST', `${path}?uploads`),
      await send('PUT', path, '', { 'x-amz-copy-source': '/data/legit' }),
      await send('PUT', '/data/copy-target', '', { 'x-amz-copy-source': `/data/${hostile}` }),
      await send('DELETE', path),
    ];
    const xml = `<Delete><Object><Key>${decodeURIComponent(hostile.replace(/%00/g, '')).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Key></Object></Delete>`;
    answers.push(await send('POST', '/data?delete', xml, { 'content-md5': createHash('md5').update(xml).digest('base64') }));
    for (const a of answers) assert.ok(!a.body.includes(SECRET), `${hostile}: the secret leaked (${a.status})`);
  }
  assert.deepEqual(filesOutsideBuckets(), before, 'no file appeared or vanished outside the buckets');
  assert.equal(readFileSync(join(w.workDir, 'secret.txt'), 'utf8'), SECRET);
  assert.equal(statSync(join(w.workDir, 'secret.txt')).mtimeMs, secretStat.mtimeMs);
  assert.equal(readFileSync(join(w.rootUfs, 'secret.txt'), 'utf8'), SECRET, 'the file beside the bucket folder is untouched');
});
