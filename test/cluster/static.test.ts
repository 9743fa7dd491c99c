// STATIC membership: two workers listed in configuration, no etcd. Requests are forwarded to the
// owner; a peer that stops answering probes for the detection timeout is skipped.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { addressOf, type Cluster, counter, keysByOwner, ringOf, startCluster } from '../helpers/cluster.js';
import { bodyOf, s3Client } from '../helpers/s3.js';
import { waitFor } from '../helpers/worker.js';

const KEYS = Array.from({ length: 20 }, (_, i) => `s/${i}`);

describe('cluster, STATIC membership', () => {
  let cluster: Cluster;
  let clients: S3Client[];

  before(async () => {
    cluster = await startCluster({ n: 2, conf: { 'strata.worker.failure.detection.timeout': '2s' } });
    clients = cluster.workers.map((w) => s3Client(w));
  });

  after(async () => {
    for (const c of clients ?? []) c.destroy();
    await cluster?.stop();
  });

  it('both workers have the configured ring and forward to each other', async () => {
    for (const w of cluster.workers) {
      const ring = await ringOf(w);
      assert.deepEqual(ring.members.map((m) => m.address).sort(), cluster.workers.map(addressOf).sort());
    }
    for (const k of KEYS) await clients[0].send(new PutObjectCommand({ Bucket: 'data', Key: k, Body: k }));
    for (const c of clients) for (const k of KEYS) assert.equal((await bodyOf(await c.send(new GetObjectCommand({ Bucket: 'data', Key: k })))).toString(), k);
    const owners = await keysByOwner(cluster.workers[0], 'data', KEYS);
    assert.equal(owners.size, 2);
    for (const w of cluster.workers) assert.ok((await counter(w, 'strata_forwarded_requests_total', 'mode="proxy"')) > 0);
  });

  it('a peer that stops answering is skipped after the detection timeout', async () => {
    const [survivor, victim] = cluster.workers;
    await victim.kill();
    await waitFor(async () => (await ringOf(survivor)).members.some((m) => !m.alive), 15_000, () => 'the dead peer was not noticed');
    for (const k of KEYS) assert.equal((await bodyOf(await clients[0].send(new GetObjectCommand({ Bucket: 'data', Key: k })))).toString(), k);
    const out = await survivor.cli('ring', '--path', `/data/${KEYS[0]}`);
    assert.match(out.stdout, /dead/);
  });
});

describe('cluster, STATIC membership, redirect mode and its health check', () => {
  let cluster: Cluster;

  before(async () => {
    cluster = await startCluster({
      n: 3,
      conf: { 'strata.worker.failure.detection.timeout': '2s', 'strata.worker.s3.redirect.enabled': 'true' },
      // Worker 1 redirects even to an owner it knows is dead; the others skip it.
      perWorker: [{}, { 'strata.worker.s3.redirect.health.check.enabled': 'false' }, {}],
    });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('an owner known dead is not redirected to with the health check on, and is without it', async () => {
    const [a, b, victim] = cluster.workers;
    let key = '';
    for (let n = 0; !key; n++) if ((await ringOf(a, `/data/h/${n}`)).owner === addressOf(victim)) key = `h/${n}`;
    const put = await fetch(`${a.s3Url}/data/${key}`, { method: 'PUT', body: 'kept' });
    assert.equal(put.status, 200);
    await victim.kill();
    for (const w of [a, b]) await waitFor(async () => (await ringOf(w)).members.some((m) => !m.alive), 15_000, () => 'the dead peer was not noticed');
    const servedBy = (await ringOf(a, `/data/${key}`)).servedBy!;
    assert.notEqual(servedBy, addressOf(victim));
    // Health check on: sent to (or served by) the next live worker, and the object is there.
    const viaA = await fetch(`${a.s3Url}/data/${key}`);
    assert.equal(viaA.status, 200);
    assert.equal(await viaA.text(), 'kept');
    // Health check off: the 307 still names the dead owner.
    const viaB = await fetch(`${b.s3Url}/data/${key}`, { redirect: 'manual' });
    assert.equal(viaB.status, 307);
    assert.equal(new URL(String(viaB.headers.get('location'))).host, addressOf(victim));
  });
});
