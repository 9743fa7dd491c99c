// nginx in front of three workers (STATIC membership, one shared folder), in the three patterns of
// docs/load-balancers.md: B (round robin, proxy mode) with the AWS SDK; A (round robin, redirect
// mode) with curl -L; C (nginx `hash $uri consistent` from `strata lb nginx`, workers on the
// NGINX_KETAMA ring) where nginx itself picks the owner, shown by the workers' forwarded counters.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { addressOf, type Cluster, counter, startCluster } from '../helpers/cluster.js';
import { NGINX, type RunningNginx, roundRobinBlock, startNginx } from '../helpers/nginx.js';
import { bodyOf } from '../helpers/s3.js';
import { freePort } from '../helpers/worker.js';

const run = promisify(execFile);
const skip = !existsSync(NGINX) && 'no /usr/sbin/nginx (scripts/install-test-deps.sh)';

function clientFor(url: string): S3Client {
  return new S3Client({ endpoint: url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'lbuser', secretAccessKey: 'x' }, maxAttempts: 1 });
}

async function forwardedTotal(cluster: Cluster, mode: string): Promise<number> {
  let sum = 0;
  for (const w of cluster.workers) sum += await counter(w, 'strata_forwarded_requests_total', `mode="${mode}"`);
  return sum;
}

describe('nginx in front of three workers', { skip }, () => {
  describe('Pattern B: round robin, proxy mode, AWS SDK', () => {
    let cluster: Cluster;
    let nginx: RunningNginx;
    let s3: S3Client;
    before(async () => {
      cluster = await startCluster({ n: 3 });
      const port = await freePort();
      nginx = await startNginx(port, roundRobinBlock(port, cluster.workers.map(addressOf)));
      s3 = clientFor(nginx.url);
    });
    after(async () => {
      s3?.destroy();
      await nginx?.stop();
      await cluster?.stop();
    });

    it('writes, reads and lists through nginx; non-owners proxy', async () => {
      const keys = Array.from({ length: 30 }, (_, i) => `b/${i}`);
      for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'data', Key: k, Body: `B ${k}` }));
      for (const k of keys) {
        assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: k })))).toString(), `B ${k}`);
        assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: k }))).ContentLength, `B ${k}`.length);
      }
      assert.equal((await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'b/' }))).KeyCount, keys.length);
      assert.ok((await forwardedTotal(cluster, 'proxy')) > 0);
    });
  });

  describe('Pattern A: round robin, redirect mode, curl -L', () => {
    let cluster: Cluster;
    let nginx: RunningNginx;
    before(async () => {
      cluster = await startCluster({ n: 3, conf: { 'strata.worker.s3.redirect.enabled': 'true' } });
      const port = await freePort();
      nginx = await startNginx(port, roundRobinBlock(port, cluster.workers.map(addressOf)));
    });
    after(async () => {
      await nginx?.stop();
      await cluster?.stop();
    });

    it('curl -L writes and reads every key through nginx, following 307s to the owners', async () => {
      for (let i = 0; i < 12; i++) {
        await run('curl', ['-sS', '-f', '-L', '-X', 'PUT', '--data-binary', `A ${i}`, `${nginx.url}/data/a/${i}`]);
        const got = await run('curl', ['-sS', '-f', '-L', `${nginx.url}/data/a/${i}`]);
        assert.equal(got.stdout, `A ${i}`);
      }
      assert.ok((await forwardedTotal(cluster, 'redirect')) > 0, 'some requests landed on a non-owner and were redirected');
      assert.equal(await forwardedTotal(cluster, 'proxy'), 0);
    });
  });

  describe('Pattern C: nginx hash $uri consistent + NGINX_KETAMA', () => {
    let cluster: Cluster;
    let nginx: RunningNginx;
    let s3: S3Client;
    before(async () => {
      cluster = await startCluster({ n: 3, conf: { 'strata.worker.ring.algorithm': 'NGINX_KETAMA' } });
      const port = await freePort();
      const out = await cluster.workers[0].cli('lb', 'nginx', '--listen', `127.0.0.1:${port}`);
      assert.equal(out.code, 0, out.stderr);
      nginx = await startNginx(port, out.stdout);
      s3 = clientFor(nginx.url);
    });
    after(async () => {
      s3?.destroy();
      await nginx?.stop();
      await cluster?.stop();
    });

    it('nginx sends each object request to its owner: at most 1% are forwarded', async () => {
      const keys = Array.from({ length: 150 }, (_, i) => `c/${i}/file name ${i}.bin`);
      let requests = 0;
      for (const k of keys) {
        await s3.send(new PutObjectCommand({ Bucket: 'data', Key: k, Body: k }));
        assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: k })))).toString(), k);
        await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: k }));
        requests += 3;
      }
      const forwarded = await forwardedTotal(cluster, 'proxy');
      console.log(`# Pattern C: ${forwarded} of ${requests} object requests forwarded`);
      assert.ok(forwarded <= requests * 0.01, `${forwarded} of ${requests} forwarded`);
      // Each worker served its share.
      for (const w of cluster.workers) assert.ok((await counter(w, 'strata_s3_requests_total', 'action="GetObject"')) > 0);
    });
  });
});
