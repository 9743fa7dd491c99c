// The strata command against a running worker: mounts (kept across restarts), configuration,
// CreateBucket without a root folder, and atomic replacement seen by concurrent readers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli, startWorker } from '../helpers/worker.js';

test('mount add, list, remove; mounts survive a restart; foreign files are served', { timeout: 60_000 }, async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'strata-cli-work-'));
  const data = mkdtempSync(join(tmpdir(), 'strata-cli-data-'));
  writeFileSync(join(data, 'existing.txt'), 'was here before');
  try {
    let w = await startWorker({ workDir });
    const added = await w.cli('mount', 'add', '--path', '/extra', '--ufs-uri', `file://${data}`, '--option', 'note=kept');
    assert.equal(added.code, 0, added.stderr);
    assert.match((await w.cli('mount', 'list')).stdout, new RegExp(`/extra\\tfile://${data}\\tmount`));
    const got = await fetch(`${w.s3Url}/extra/existing.txt`);
    assert.equal(await got.text(), 'was here before');
    assert.match(got.headers.get('etag') ?? '', /^"[0-9a-f]{32}-1"$/, 'a file written behind our back gets a derived ETag');
    const again = await w.cli('mount', 'add', '--path', '/extra', '--ufs-uri', `file://${data}`);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already/);
    const missing = await w.cli('mount', 'add', '--path', '/nowhere', '--ufs-uri', 'file:///no/such/folder');
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /does not exist/);
    assert.equal(await w.stop(), 0, 'SIGTERM drains and exits 0');

    w = await startWorker({ workDir });
    assert.equal(await (await fetch(`${w.s3Url}/extra/existing.txt`)).text(), 'was here before', 'the mount survived the restart');
    assert.equal((await w.cli('mount', 'remove', '/extra')).code, 0);
    assert.equal((await fetch(`${w.s3Url}/extra/existing.txt`)).status, 404);
    assert.equal(readFileSync(join(data, 'existing.txt'), 'utf8'), 'was here before', 'unmounting leaves the data');
    await w.stop();
  } finally {
    rmSync(workDir, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
});

test('strata conf get under both spellings, with -D, a file and the environment', { timeout: 30_000 }, async () => {
  assert.equal((await runCli(['conf', 'get', 'strata.worker.rest.port'])).stdout.trim(), '29998');
  assert.equal((await runCli(['conf', 'get', 'alluxio.worker.s3.https.port'])).stdout.trim(), '29996');
  assert.equal((await runCli(['conf', 'get', 'alluxio.worker.rest.port', '-D', 'alluxio.worker.rest.port=1234'])).stdout.trim(), '1234');
  assert.equal((await runCli(['conf', 'get', 'strata.worker.rest.port', '-D', 'alluxio.worker.rest.port=4321'])).stdout.trim(), '4321');
  const dir = mkdtempSync(join(tmpdir(), 'strata-conf-'));
  try {
    writeFileSync(join(dir, 'site.properties'), 'alluxio.worker.s3.header.metadata.max.size=4KB\n');
    assert.equal((await runCli(['conf', 'get', 'strata.worker.s3.header.metadata.max.size', '--conf', join(dir, 'site.properties')])).stdout.trim(), '4KB');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal((await runCli(['conf', 'get', 'strata.worker.web.port'], { ...process.env, STRATA_WORKER_WEB_PORT: '31000' })).stdout.trim(), '31000');
  const bad = await runCli(['conf', 'get', 'strata.no.such.key']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown configuration key/);
});

test('CreateBucket without a root folder is refused with a pointer to mount add', { timeout: 30_000 }, async () => {
  const w = await startWorker({ embedded: false, conf: { 'strata.root.ufs': '' } });
  try {
    const r = await fetch(`${w.s3Url}/newbucket`, { method: 'PUT' });
    assert.equal(r.status, 400);
    const body = await r.text();
    assert.match(body, /<Code>InvalidRequest<\/Code>/);
    assert.match(body, /mount add/);
    assert.match(await (await fetch(`${w.s3Url}/`)).text(), /<Buckets><\/Buckets>/);
  } finally {
    await w.stop();
  }
});

test('a GET during a PUT of the same key sees the old or the new object whole', { timeout: 60_000 }, async () => {
  const w = await startWorker();
  try {
    const v1 = randomBytes(8 << 20);
    const v2 = randomBytes(8 << 20);
    assert.equal((await fetch(`${w.s3Url}/data/atomic`, { method: 'PUT', body: v1 })).status, 200);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; i < 4; i++) await fetch(`${w.s3Url}/data/atomic`, { method: 'PUT', body: i % 2 ? v1 : v2 });
      writing = false;
    })();
    let reads = 0;
    while (writing || reads < 5) {
      const body = Buffer.from(await (await fetch(`${w.s3Url}/data/atomic`)).arrayBuffer());
      assert.ok(body.equals(v1) || body.equals(v2), `read ${reads} is one whole version (${body.length} bytes)`);
      reads++;
    }
    await writer;
    assert.deepEqual(readdirSync(join(w.rootUfs, 'data', '.strata.sys', 'tmp')), [], 'every write cleaned its temporary file');
  } finally {
    await w.stop();
  }
});
