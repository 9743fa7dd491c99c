// Three workers with etcd membership in proxy mode (the default): objects written through one
// worker are read, listed, changed and deleted through the others; requests another worker owns
// are streamed to it and counted; bucket-level requests are served where they land.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { Etcd3 } from 'etcd3';
import { addressOf, type Cluster, counter, keysByOwner, ringOf, startCluster } from '../helpers/cluster.js';
import { type RunningEtcd, startEtcd } from '../helpers/etcd.js';
import { rawRequest } from '../helpers/http.js';
import { bodyOf, s3Client, s3Error } from '../helpers/s3.js';
import { runCli, waitFor } from '../helpers/worker.js';

describe('cluster, proxy mode', () => {
  let etcd: RunningEtcd;
  let cluster: Cluster;
  let clients: S3Client[];

  before(async () => {
    etcd = await startEtcd();
    cluster = await startCluster({
      n: 3,
      etcd,
      conf: { 'strata.worker.s3.multipart.min.part.size': '1KB' },
      // One worker with two S3 processes: each of them keeps its own view of the ring.
      perWorker: [{ 'strata.worker.s3.event.loops': '2' }],
    });
    clients = cluster.workers.map((w) => s3Client(w));
  });

  after(async () => {
    for (const c of clients ?? []) c.destroy();
    await cluster?.stop();
    await etcd?.destroy();
  });

  it('every worker sees the same three members and the same owner of a path', async () => {
    const views = await Promise.all(cluster.workers.map((w) => ringOf(w, '/data/some/key')));
    for (const v of views) {
      assert.deepEqual(v.members.map((m) => m.address).sort(), cluster.workers.map(addressOf).sort());
      assert.equal(v.owner, views[0].owner);
    }
  });

  it('objects written through one worker are read, headed and listed through the others', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `obj/${i}`);
    for (const k of keys) await clients[0].send(new PutObjectCommand({ Bucket: 'data', Key: k, Body: `body of ${k}`, ContentType: 'text/x-test', Metadata: { n: k } }));
    for (const [i, c] of clients.entries()) {
      for (const k of keys) {
        const got = await c.send(new GetObjectCommand({ Bucket: 'data', Key: k }));
        assert.equal((await bodyOf(got)).toString(), `body of ${k}`, `GET ${k} through worker ${i}`);
        assert.equal(got.ContentType, 'text/x-test');
        assert.equal(got.Metadata?.n, k);
        const head = await c.send(new HeadObjectCommand({ Bucket: 'data', Key: k }));
        assert.equal(head.ContentLength, `body of ${k}`.length);
      }
      const list = await c.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'obj/' }));
      assert.equal(list.KeyCount, keys.length, `LIST through worker ${i}`);
    }
    // Each worker proxied the keys it does not own, and served others' requests.
    const owners = await keysByOwner(cluster.workers[0], 'data', keys);
    assert.ok(owners.size >= 2, 'the keys spread over several owners');
    for (const w of cluster.workers) {
      assert.ok((await counter(w, 'strata_forwarded_requests_total', 'mode="proxy"')) > 0);
      assert.ok((await counter(w, 'strata_forwarded_in_total')) > 0);
    }
  });

  it('a large body streams through a non-owner both ways, and Range works', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024 + 3);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    const key = await keyNotOwnedBy(0, 'big/');
    await clients[0].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: big }));
    const got = await bodyOf(await clients[0].send(new GetObjectCommand({ Bucket: 'data', Key: key })));
    assert.ok(got.equals(big));
    const part = await clients[1].send(new GetObjectCommand({ Bucket: 'data', Key: key, Range: 'bytes=4096-8191' }));
    assert.equal(part.$metadata.httpStatusCode, 206);
    assert.ok((await bodyOf(part)).equals(big.subarray(4096, 8192)));
  });

  it('a multipart upload through a non-owner completes on the owner', async () => {
    const key = await keyNotOwnedBy(1, 'mp/');
    const c = clients[1];
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: key }));
    const p1 = Buffer.alloc(2048, 'a');
    const p2 = Buffer.from('tail');
    const e1 = await c.send(new UploadPartCommand({ Bucket: 'data', Key: key, UploadId, PartNumber: 1, Body: p1 }));
    const e2 = await c.send(new UploadPartCommand({ Bucket: 'data', Key: key, UploadId, PartNumber: 2, Body: p2 }));
    await c.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] } }));
    const got = await bodyOf(await clients[2].send(new GetObjectCommand({ Bucket: 'data', Key: key })));
    assert.ok(got.equals(Buffer.concat([p1, p2])));
  });

  it('an overwrite and a delete through one worker are seen at once through the others', async () => {
    const key = 'rw/object';
    await clients[2].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'v1' }));
    await clients[0].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'v2' }));
    for (const c of clients) assert.equal((await bodyOf(await c.send(new GetObjectCommand({ Bucket: 'data', Key: key })))).toString(), 'v2');
    await clients[1].send(new DeleteObjectCommand({ Bucket: 'data', Key: key }));
    for (const c of clients) {
      assert.equal((await s3Error(c.send(new HeadObjectCommand({ Bucket: 'data', Key: key })))).status, 404);
      const list = await c.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'rw/' }));
      assert.equal(list.KeyCount ?? 0, 0);
    }
  });

  it('listings through any worker see writes at once, and DeleteObjects through a non-owner empties the owner\'s cache', async () => {
    const keys = Array.from({ length: 12 }, (_, i) => `multi/k${i}`);
    // Listed first everywhere (a worker that cached listings would keep this empty answer).
    for (const c of clients) assert.equal((await c.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'multi/' }))).KeyCount ?? 0, 0);
    for (const [i, key] of keys.entries()) await clients[i % 3].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: `body ${i}` }));
    for (const c of clients) assert.equal((await c.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'multi/' }))).KeyCount, keys.length);
    // Read through every worker: each owner now has status and pages of its keys cached.
    for (const c of clients) for (const key of keys) await bodyOf(await c.send(new GetObjectCommand({ Bucket: 'data', Key: key })));
    const before = await Promise.all(cluster.workers.map((w) => counter(w, 'strata_forwarded_requests_total', 'mode="proxy"')));
    const deleted = await clients[0].send(new DeleteObjectsCommand({ Bucket: 'data', Delete: { Objects: keys.map((Key) => ({ Key })) } }));
    assert.equal(deleted.Deleted?.length, keys.length, JSON.stringify(deleted.Errors));
    const after = await Promise.all(cluster.workers.map((w) => counter(w, 'strata_forwarded_requests_total', 'mode="proxy"')));
    assert.ok(after[0] > before[0], 'keys owned by others were deleted by their owners');
    for (const c of clients) {
      for (const key of keys) assert.equal((await s3Error(c.send(new GetObjectCommand({ Bucket: 'data', Key: key })))).status, 404, key);
      assert.equal((await c.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'multi/' }))).KeyCount ?? 0, 0);
    }
  });

  it('a POST Object form sent to a worker that does not own the key is written by the owner, whose cache then serves the new bytes', async () => {
    const keys = Array.from({ length: 9 }, (_, i) => `posted/k${i}`);
    const owners = await keysByOwner(cluster.workers[0], 'data', keys);
    const post = async (worker: number, key: string, body: string, extra: Array<[string, string]> = []) => {
      const form = new FormData();
      for (const [k, v] of [['key', key], ['Content-Type', 'text/x-posted'], ['x-amz-meta-note', 'café'], ...extra]) form.append(k, v);
      form.append('file', new Blob([body]), 'f.txt');
      const res = await fetch(`${cluster.workers[worker].s3Url}/data`, { method: 'POST', body: form, signal: AbortSignal.timeout(10_000) });
      return { status: res.status, body: await res.text(), etag: res.headers.get('etag') };
    };
    for (const key of keys) {
      await clients[0].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'old bytes' }));
      for (const c of clients) assert.equal((await bodyOf(await c.send(new GetObjectCommand({ Bucket: 'data', Key: key })))).toString(), 'old bytes');
      const owner = [...owners].find(([, ks]) => ks.includes(key))![0];
      const sender = cluster.workers.findIndex((w) => addressOf(w) !== owner);
      const before = await counter(cluster.workers[sender], 'strata_forwarded_requests_total', 'mode="proxy"');
      const tagging = '<Tagging><TagSet><Tag><Key>via</Key><Value>form</Value></Tag></TagSet></Tagging>';
      const a = await post(sender, key, `new bytes of ${key}`, [['tagging', tagging]]);
      assert.equal(a.status, 204, a.body);
      assert.ok((await counter(cluster.workers[sender], 'strata_forwarded_requests_total', 'mode="proxy"')) > before, 'sent on to the owner');
      for (const [i, c] of clients.entries()) {
        const got = await c.send(new GetObjectCommand({ Bucket: 'data', Key: key }));
        assert.equal((await bodyOf(got)).toString(), `new bytes of ${key}`, `GET ${key} through worker ${i}`);
        assert.equal(got.ETag, a.etag);
        assert.equal(got.ContentType, 'text/x-posted');
        assert.equal(Buffer.from(got.Metadata?.note ?? '', 'latin1').toString('utf8'), 'café');
        assert.equal(got.TagCount, 1);
      }
      // A file over the policy's range is refused on its way to the owner; the object stays.
      const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions: [{ bucket: 'data' }, ['starts-with', '$key', 'posted/'], ['starts-with', '$Content-Type', ''], ['starts-with', '$x-amz-meta-note', ''], ['content-length-range', 0, 10]] })).toString('base64');
      const big = await post(sender, key, 'x'.repeat(64 * 1024), [['AWSAccessKeyId', 'testuser'], ['policy', policy], ['signature', 'unchecked']]);
      assert.equal(big.status, 400, big.body);
      assert.match(big.body, /<Code>EntityTooLarge<\/Code>/);
      assert.equal((await bodyOf(await clients[0].send(new GetObjectCommand({ Bucket: 'data', Key: key })))).toString(), `new bytes of ${key}`);
    }
  });

  it('a forwarding marker that is not signed with the cluster secret is refused', async () => {
    const w = cluster.workers[0];
    const r = await rawRequest(w.s3Port, 'GET', '/data/obj/1', undefined, { 'x-strata-forwarded': `${Math.floor(Date.now() / 1000)}.forged` });
    assert.equal(r.status, 403);
    assert.match(r.body, /<Code>AccessDenied<\/Code>/);
    assert.match(r.body, /forwarding marker/);
  });

  it('a bucket made through one worker is used through another at once, and a mount added on one is seen by all', async () => {
    await clients[0].send(new (await import('@aws-sdk/client-s3')).CreateBucketCommand({ Bucket: 'fresh' }));
    await clients[1].send(new PutObjectCommand({ Bucket: 'fresh', Key: 'k', Body: 'x' }));
    assert.equal((await bodyOf(await clients[2].send(new GetObjectCommand({ Bucket: 'fresh', Key: 'k' })))).toString(), 'x');

    const out = await runCli(['mount', 'add', '--path', '/mounted', '--ufs-uri', `file://${cluster.shared}/fresh`, '--worker', `127.0.0.1:${cluster.workers[1].webPort}`]);
    assert.equal(out.code, 0, out.stderr);
    const added = Date.now();
    await waitFor(async () => {
      for (const w of cluster.workers) {
        const m = (await (await fetch(`${w.adminUrl}/api/v1/mounts`)).json()) as { mounts: Array<{ bucket: string }> };
        if (!m.mounts.some((x) => x.bucket === 'mounted')) return false;
      }
      return true;
    }, 10_000, () => 'the mount did not reach every worker');
    // For the report; the bound above only guards against a hang.
    console.log(`# mount seen by all workers after ${Date.now() - added} ms`);
    assert.equal((await bodyOf(await clients[0].send(new GetObjectCommand({ Bucket: 'mounted', Key: 'k' })))).toString(), 'x');
  });

  it('a mount written into etcd directly is seen by every worker', async () => {
    const client = new Etcd3({ hosts: etcd.endpoint });
    try {
      const entry = { bucket: 'direct', ufsUri: `file://${cluster.shared}/fresh`, options: {}, createdAt: new Date().toISOString(), owner: 'ops', origin: 'mount' };
      await client.put('/strata/mounts/direct').value(JSON.stringify(entry));
    } finally {
      client.close();
    }
    await waitFor(async () => {
      for (const c of clients) {
        const got = await c.send(new GetObjectCommand({ Bucket: 'direct', Key: 'k' })).catch(() => undefined);
        if (!got || (await bodyOf(got)).toString() !== 'x') return false;
      }
      return true;
    }, 10_000, () => 'the mount written into etcd did not reach every worker');
  });

  it('strata ring prints the members and the owner of a path', async () => {
    const out = await cluster.workers[0].cli('ring', '--path', '/data/obj/1');
    assert.equal(out.code, 0, out.stderr);
    for (const w of cluster.workers) assert.match(out.stdout, new RegExp(addressOf(w).replace(/\./g, '\\.')));
    const owner = (await ringOf(cluster.workers[0], '/data/obj/1')).owner!;
    assert.match(out.stdout, new RegExp(`owner of /data/obj/1: ${owner.replace(/\./g, '\\.')}`));
  });

  /** A key under `prefix` that worker `i` does not own. */
  async function keyNotOwnedBy(i: number, prefix: string): Promise<string> {
    const self = addressOf(cluster.workers[i]);
    for (let n = 0; ; n++) {
      const key = `${prefix}${n}`;
      if ((await ringOf(cluster.workers[i], `/data/${key}`)).owner !== self) return key;
    }
  }
});
