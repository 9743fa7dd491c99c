// Worker-to-worker HTTPS: with strata.cluster.tls.enabled the proxy goes to the owner's HTTPS port
// (advertised in its etcd registration), verified against strata.cluster.tls.ca.file. The workers
// accept only HTTPS, so a proxied request that succeeds went over TLS.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addressOf, type Cluster, counter, ringOf, startCluster } from '../helpers/cluster.js';
import { type RunningEtcd, startEtcd } from '../helpers/etcd.js';
import { freePort } from '../helpers/worker.js';

function httpsCall(port: number, ca: Buffer, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, ca, servername: 'localhost' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('cluster, worker-to-worker HTTPS', () => {
  let etcd: RunningEtcd;
  let cluster: Cluster;
  let dir: string;
  let ca: Buffer;
  const httpsPorts: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-cluster-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=strata-cluster',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    ca = readFileSync(join(dir, 'cert.pem'));
    for (let i = 0; i < 3; i++) httpsPorts.push(await freePort());
    etcd = await startEtcd();
    cluster = await startCluster({
      n: 3,
      etcd,
      conf: {
        'strata.security.tls.cert.file': join(dir, 'cert.pem'),
        'strata.security.tls.key.file': join(dir, 'key.pem'),
        'strata.worker.s3.only.https.access': 'true',
        'strata.cluster.tls.enabled': 'true',
        'strata.cluster.tls.ca.file': join(dir, 'cert.pem'),
      },
      perWorker: httpsPorts.map((p) => ({ 'strata.worker.s3.https.port': String(p) })),
    });
  });

  after(async () => {
    await cluster?.stop();
    await etcd?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a request for another worker\'s key is proxied over HTTPS', async () => {
    const entry = cluster.workers[0];
    const self = addressOf(entry);
    let key = '';
    for (let n = 0; !key; n++) if ((await ringOf(entry, `/data/tls/${n}`)).owner !== self) key = `tls/${n}`;
    const put = await httpsCall(httpsPorts[0], ca, 'PUT', `/data/${key}`, 'over tls');
    assert.equal(put.status, 200, put.body);
    for (const p of httpsPorts) {
      const got = await httpsCall(p, ca, 'GET', `/data/${key}`);
      assert.equal(got.status, 200, got.body);
      assert.equal(got.body, 'over tls');
    }
    assert.ok((await counter(entry, 'strata_forwarded_requests_total', 'mode="proxy"')) >= 2);
  });
});
