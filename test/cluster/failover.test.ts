// Membership changes under traffic, with etcd and a 2 s failure detection timeout: a worker killed
// with SIGKILL leaves every ring once its lease expires and its keys are read from the
// under-storage through the others; a new worker joins and takes its share; etcd stopped and
// started again while the workers serve.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { addressOf, type Cluster, keysByOwner, ringOf, startCluster, waitForMembers } from '../helpers/cluster.js';
import { type RunningEtcd, startEtcd } from '../helpers/etcd.js';
import { rawRequest } from '../helpers/http.js';
import { bodyOf, s3Client } from '../helpers/s3.js';
import { runCli, waitFor } from '../helpers/worker.js';

const KEYS = Array.from({ length: 60 }, (_, i) => `k/${i}`);

describe('cluster membership changes', () => {
  let etcd: RunningEtcd;
  let cluster: Cluster;
  const clients: S3Client[] = [];

  before(async () => {
    etcd = await startEtcd();
    cluster = await startCluster({ n: 3, etcd, conf: { 'strata.worker.failure.detection.timeout': '2s', 'strata.worker.s3.forward.connect.timeout': '1s' } });
    for (const w of cluster.workers) clients.push(s3Client(w));
    for (const k of KEYS) await clients[0].send(new PutObjectCommand({ Bucket: 'data', Key: k, Body: `v:${k}` }));
  });

  after(async () => {
    for (const c of clients) c.destroy();
    await cluster?.stop();
    await etcd?.destroy();
  });

  async function readAll(c: S3Client, keys = KEYS): Promise<void> {
    for (const k of keys) assert.equal((await bodyOf(await c.send(new GetObjectCommand({ Bucket: 'data', Key: k })))).toString(), `v:${k}`, k);
  }

  it('a worker killed with SIGKILL leaves the ring within the detection timeout; its keys stay readable', async () => {
    const victim = cluster.workers[2];
    const owned = (await keysByOwner(cluster.workers[0], 'data', KEYS)).get(addressOf(victim)) ?? [];
    assert.ok(owned.length > 0, 'the victim owns some keys');
    await victim.kill();
    const killed = Date.now();
    // Until the ring drops it, a request for its keys fails fast with 503 SlowDown (or is already
    // served by the next worker): never a hang.
    const early = await rawRequest(cluster.workers[0].s3Port, 'GET', `/data/${owned[0]}`);
    assert.ok(early.status === 503 || early.status === 200, `status ${early.status}`);
    if (early.status === 503) assert.match(early.body, /<Code>SlowDown<\/Code>/);
    const alive = cluster.workers.slice(0, 2);
    await waitForMembers(alive, 2, 15_000);
    console.log(`# killed worker left the rings after ${Date.now() - killed} ms (detection timeout 2 s)`);
    for (const c of clients.slice(0, 2)) await readAll(c);
  });

  it('a new worker joins, takes its share, and every key stays readable through every worker', async () => {
    const joined = await cluster.add();
    clients.push(s3Client(joined));
    const live = [cluster.workers[0], cluster.workers[1], joined];
    await waitForMembers(live, 3);
    const owners = await keysByOwner(cluster.workers[0], 'data', KEYS);
    const share = owners.get(addressOf(joined)) ?? [];
    assert.ok(share.length > 0, 'the new worker owns some keys');
    // Its keys are served by it (from the under-storage) whichever worker is asked.
    for (const c of [clients[0], clients[1], clients[3]]) await readAll(c);
    const ring = await ringOf(joined, `/data/${share[0]}`);
    assert.equal(ring.owner, addressOf(joined));
  });

  it('etcd stopped and started again: workers serve meanwhile, then see changes again', async () => {
    const live = [cluster.workers[0], cluster.workers[1], cluster.workers[3]];
    const liveClients = [clients[0], clients[1], clients[3]];
    await etcd.stop();
    await waitFor(async () => !(await ringOf(live[0])).connected, 15_000, () => 'the worker did not notice etcd was gone');
    // The last known ring keeps serving, forwarding included.
    for (const c of liveClients) await readAll(c, KEYS.slice(0, 20));
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: 'during-outage', Body: 'x' }));
    assert.equal((await bodyOf(await clients[3].send(new GetObjectCommand({ Bucket: 'data', Key: 'during-outage' })))).toString(), 'x');
    assert.equal((await ringOf(live[0])).members.length, 3);

    await etcd.start();
    await waitFor(async () => {
      for (const w of live) if (!(await ringOf(w)).connected) return false;
      return true;
    }, 20_000, () => 'the workers did not reconnect to etcd');
    await waitForMembers(live, 3, 20_000);
    // Registrations are back in etcd (re-registered if their leases expired) and watches work again.
    const out = await runCli(['mount', 'add', '--path', '/after-restart', '--ufs-uri', `file://${cluster.shared}/data`, '--worker', `127.0.0.1:${live[2].webPort}`]);
    assert.equal(out.code, 0, out.stderr);
    await waitFor(async () => {
      for (const w of live) {
        const m = (await (await fetch(`${w.adminUrl}/api/v1/mounts`)).json()) as { mounts: Array<{ bucket: string }> };
        if (!m.mounts.some((x) => x.bucket === 'after-restart')) return false;
      }
      return true;
    }, 10_000, () => 'the mount did not reach every worker after etcd came back');
    for (const c of liveClients) await readAll(c, KEYS.slice(0, 10));
  });

  it('a request proxied to a worker that hangs is answered 503 once the hung worker leaves the ring', async () => {
    const [entry, hung] = [cluster.workers[0], cluster.workers[3]];
    const owned = (await keysByOwner(entry, 'data', KEYS)).get(addressOf(hung)) ?? [];
    assert.ok(owned.length > 0);
    hung.process.kill('SIGSTOP');
    try {
      // Accepted by the kernel, never answered: only the lease's expiry ends the wait.
      const answer = await Promise.race([
        rawRequest(entry.s3Port, 'GET', `/data/${owned[0]}`),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer within 20 s')), 20_000).unref()),
      ]);
      assert.equal(answer.status, 503);
      assert.match(answer.body, /<Code>SlowDown<\/Code>/);
      await waitForMembers([cluster.workers[0], cluster.workers[1]], 3 - 1, 15_000);
      await readAll(clients[0], owned);
    } finally {
      hung.process.kill('SIGCONT');
    }
    // Back from the pause, it registers again.
    await waitForMembers([cluster.workers[0], cluster.workers[1], hung], 3, 20_000);
  });

  it('a worker stopped gracefully leaves the ring at once (its lease is revoked)', async () => {
    const leaving = cluster.workers[3];
    await leaving.stop();
    await waitForMembers([cluster.workers[0], cluster.workers[1]], 2, 10_000);
    await readAll(clients[0]);
  });
});
