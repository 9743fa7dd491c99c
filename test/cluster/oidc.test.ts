// OIDC in a cluster: temporary credentials issued by one worker work through every other one,
// also when no cluster secret is configured (the workers agree on the one kept in etcd).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type Cluster, counter, startCluster } from '../helpers/cluster.js';
import { type RunningEtcd, startEtcd } from '../helpers/etcd.js';
import { OidcProvider } from '../helpers/oidcProvider.js';
import { bodyOf } from '../helpers/s3.js';

describe('cluster, OIDC: temporary credentials from one worker work through all', { timeout: 300_000 }, () => {
  let etcd: RunningEtcd;
  let idp: OidcProvider;
  let cluster: Cluster;

  before(async () => {
    etcd = await startEtcd();
    idp = await OidcProvider.start();
    cluster = await startCluster({
      n: 3,
      etcd,
      conf: {
        'strata.cluster.secret': '', // generated once and kept in etcd
        'strata.security.authentication.type': 'OIDC',
        'strata.security.oidc.issuer': idp.issuer,
        'strata.security.oidc.audience': 'strata',
      },
    });
  });
  after(async () => {
    await cluster?.stop();
    await idp?.stop();
    await etcd?.destroy();
  });

  it('credentials from worker 0 write and read through workers 1 and 2 (proxied to the owners)', async () => {
    const [first, ...others] = cluster.workers;
    const sts = new STSClient({ endpoint: first.s3Url, region: 'us-east-1', maxAttempts: 1 });
    const out = await sts.send(new AssumeRoleWithWebIdentityCommand({
      RoleArn: 'arn:aws:iam::000000000000:role/any', RoleSessionName: 'cluster', WebIdentityToken: await idp.idToken({ sub: 'dana' }),
    }));
    sts.destroy();
    const c = out.Credentials!;
    const credentials = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    for (const [i, w] of others.entries()) {
      const s3 = new S3Client({ endpoint: w.s3Url, forcePathStyle: true, region: 'us-east-1', maxAttempts: 1, credentials });
      try {
        // Several keys, so that some are owned by each worker.
        for (let k = 0; k < 6; k++) {
          const Key = `sts/${i}/${k}`;
          await s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body: `from ${i}.${k}` }));
          // Twice: the second GET of a proxied key is answered from the proxy cache, the owner
          // verifying the signature of the request as it came from the client.
          for (let twice = 0; twice < 2; twice++) {
            assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key })))).toString(), `from ${i}.${k}`);
          }
        }
      } finally {
        s3.destroy();
      }
    }
    let hits = 0;
    for (const w of others) hits += await counter(w, 'strata_proxy_cache_answers_total', 'answer="hit"');
    assert.ok(hits > 0, 'some GETs were answered from a proxy cache');
  });
});
