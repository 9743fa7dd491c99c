// Three workers with etcd membership in redirect mode: a request for an object another worker
// owns gets a 307 to the owner (path and query kept, S3's TemporaryRedirect body, a signed token
// that carries the user, since clients drop Authorization on a redirect to another port);
// curl -L and fetch follow it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { signRedirect } from '../../src/cluster/signing.js';
import { addressOf, type Cluster, counter, ringOf, startCluster } from '../helpers/cluster.js';
import { type RunningEtcd, startEtcd } from '../helpers/etcd.js';
import { rawRequest } from '../helpers/http.js';
import type { RunningWorker } from '../helpers/worker.js';

const run = promisify(execFile);
const SECRET = Buffer.from('test-cluster-secret');
const AUTH = (user: string) => ({ authorization: `AWS4-HMAC-SHA256 Credential=${user}/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0` });

describe('cluster, redirect mode', () => {
  let etcd: RunningEtcd;
  let cluster: Cluster;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'strata-redirect-'));
    etcd = await startEtcd();
    cluster = await startCluster({ n: 3, etcd, conf: { 'strata.worker.s3.redirect.enabled': 'true' } });
  });

  after(async () => {
    await cluster?.stop();
    await etcd?.destroy();
    rmSync(tmp, { recursive: true, force: true });
  });

  /** A key whose owner is not worker `i`, with that owner. */
  async function foreignKey(i: number, prefix: string): Promise<{ key: string; owner: RunningWorker }> {
    const self = addressOf(cluster.workers[i]);
    for (let n = 0; ; n++) {
      const key = `${prefix}${n}`;
      const owner = (await ringOf(cluster.workers[i], `/data/${key}`)).owner!;
      if (owner !== self) return { key, owner: cluster.workers.find((w) => addressOf(w) === owner)! };
    }
  }

  it('a non-owner answers 307 to the owner with the path and query kept; the owner answers itself', async () => {
    const { key, owner } = await foreignKey(0, 'r/');
    const w = cluster.workers[0];
    const put = await rawRequest(w.s3Port, 'PUT', `/data/${key}?x-id=PutObject`, 'payload', AUTH('alice'));
    assert.equal(put.status, 307);
    assert.match(put.body, /<Code>TemporaryRedirect<\/Code>/);
    assert.match(put.body, new RegExp(`<Endpoint>${addressOf(owner)}</Endpoint>`));
    const location = new URL(String(put.headers.location));
    assert.equal(location.host, addressOf(owner));
    assert.equal(location.pathname, `/data/${key}`);
    assert.equal(location.searchParams.get('x-id'), 'PutObject');
    assert.ok(location.searchParams.get('x-strata-redirect'));
    // Following it without Authorization (as clients do): the token makes alice the writer.
    const followed = await rawRequest(owner.s3Port, 'PUT', location.pathname + location.search, 'payload');
    assert.equal(followed.status, 200);
    const list = await rawRequest(owner.s3Port, 'GET', `/data?list-type=2&prefix=${encodeURIComponent(key)}&fetch-owner=true`);
    assert.match(list.body, /<ID>alice<\/ID>/);
    // The owner serves its own keys without a redirect.
    const direct = await rawRequest(owner.s3Port, 'GET', `/data/${key}`);
    assert.equal(direct.status, 200);
    assert.equal(direct.body, 'payload');
    const head = await rawRequest(w.s3Port, 'HEAD', `/data/${key}`);
    assert.equal(head.status, 307);
    assert.equal(head.body, '');
    assert.ok((await counter(w, 'strata_forwarded_requests_total', 'mode="redirect"')) >= 2);
  });

  it('curl -L writes and reads through any worker', async () => {
    const file = join(tmp, 'upload.bin');
    const data = Buffer.alloc(300_000, 7);
    writeFileSync(file, data);
    for (const [i, w] of cluster.workers.entries()) {
      const key = `curl/${i}`;
      const put = await run('curl', ['-sS', '-f', '-L', '-T', file, '-H', AUTH('bob').authorization, `${w.s3Url}/data/${key}`]);
      assert.equal(put.stderr, '');
      for (const reader of cluster.workers) {
        const got = await run('curl', ['-sS', '-f', '-L', `${reader.s3Url}/data/${key}`], { encoding: 'buffer', maxBuffer: 1 << 24 });
        assert.ok(Buffer.from(got.stdout).equals(data), `curl -L GET ${key} through ${reader.s3Url}`);
      }
    }
  });

  it('fetch (undici) follows the 307', async () => {
    const { key } = await foreignKey(1, 'f/');
    const put = await fetch(`${cluster.workers[1].s3Url}/data/${key}`, { method: 'PUT', body: 'from fetch', headers: AUTH('carol') });
    assert.equal(put.status, 200);
    for (const w of cluster.workers) {
      const r = await fetch(`${w.s3Url}/data/${key}`, { headers: AUTH('carol') });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), 'from fetch');
    }
  });

  it('bucket-level requests are served where they land', async () => {
    for (const w of cluster.workers) {
      const r = await rawRequest(w.s3Port, 'GET', '/data?list-type=2&prefix=curl/');
      assert.equal(r.status, 200);
      assert.equal((r.body.match(/<Key>/g) ?? []).length, 3);
    }
  });

  it('a forged, expired or misplaced redirect token is refused', async () => {
    const { key, owner } = await foreignKey(2, 't/');
    const path = `/data/${key}`;
    const forged = await rawRequest(owner.s3Port, 'GET', `${path}?x-strata-redirect=9999999999.YWxpY2U..forged`);
    assert.equal(forged.status, 403);
    const expired = signRedirect(SECRET, 'GET', path, { user: 'alice' }, Math.floor(Date.now() / 1000) - 3600);
    assert.equal((await rawRequest(owner.s3Port, 'GET', `${path}?x-strata-redirect=${encodeURIComponent(expired)}`)).status, 403);
    const otherPath = signRedirect(SECRET, 'GET', '/data/elsewhere', { user: 'alice' });
    assert.equal((await rawRequest(owner.s3Port, 'GET', `${path}?x-strata-redirect=${encodeURIComponent(otherPath)}`)).status, 403);
    const otherMethod = signRedirect(SECRET, 'GET', path, { user: 'alice' });
    assert.equal((await rawRequest(owner.s3Port, 'DELETE', `${path}?x-strata-redirect=${encodeURIComponent(otherMethod)}`)).status, 403);
  });
});
