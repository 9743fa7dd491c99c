// OIDC in a cluster: temporary credentials issued by one worker work through every other one,
// also when no cluster secret is configured (the workers agree on the one kept in etcd); in
// redirect mode the user's groups go along with the redirect, for the owner's authorization.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type Cluster, counter, startCluster } from '../helpers/cluster.js';
import { type RunningEtcd, startEtcd } from '../helpers/etcd.js';
import { OidcProvider } from '../helpers/oidcProvider.js';
import { type RawAnswer, rawRequest } from '../helpers/http.js';
import { bodyOf } from '../helpers/s3.js';

const oidcConf = (idp: OidcProvider) => ({
  'strata.security.authentication.type': 'OIDC',
  'strata.security.oidc.issuer': idp.issuer,
  'strata.security.oidc.audience': 'strata',
});

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
        ...oidcConf(idp),
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

describe('cluster, OIDC, redirect mode: the user\'s groups go along with the redirect', { timeout: 300_000 }, () => {
  let etcd: RunningEtcd;
  let idp: OidcProvider;
  let cluster: Cluster;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-oidc-redirect-'));
    // Only a group may write: a redirect that forgot the groups is refused by the owner.
    writeFileSync(join(dir, 'policy.json'), JSON.stringify({ rules: [{ principals: ['group:writers'], actions: ['*'], buckets: ['data'] }] }));
    etcd = await startEtcd();
    idp = await OidcProvider.start();
    cluster = await startCluster({
      n: 3,
      etcd,
      conf: {
        'strata.worker.s3.redirect.enabled': 'true',
        ...oidcConf(idp),
        'strata.security.authorization.policy.file': join(dir, 'policy.json'),
      },
    });
  });
  after(async () => {
    await cluster?.stop();
    await idp?.stop();
    await etcd?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const writerOf = async (sub: string) => `Bearer ${await idp.idToken({ sub, groups: ['writers'] })}`;

  /**
   * A key worker 0 does not own: one it answers with a 307 (the admin API, which would name the
   * owner, is closed in OIDC mode).
   */
  async function keyElsewhere(prefix: string): Promise<string> {
    const authorization = await writerOf('probe');
    for (let i = 0; i < 32; i++) {
      const key = `${prefix}/${i}`;
      if ((await rawRequest(cluster.workers[0].s3Port, 'HEAD', `/data/${key}`, undefined, { authorization })).status === 307) return key;
    }
    assert.fail(`worker 0 owns every one of 32 keys under ${prefix}/`);
  }

  /** Sends to worker 0 and follows its 307 as a client does: to the Location, without Authorization. */
  async function viaRedirect(method: string, key: string, authorization: string, body?: string): Promise<{ first: RawAnswer; last: RawAnswer }> {
    const first = await rawRequest(cluster.workers[0].s3Port, method, `/data/${key}`, body, { authorization });
    assert.equal(first.status, 307, `${JSON.stringify(first.headers)} ${first.body.slice(0, 300)}`);
    const to = new URL(String(first.headers.location));
    return { first, last: await rawRequest(Number(to.port), method, `${to.pathname}${to.search}`, body) };
  }

  it('a member of the group writes, reads and deletes through a non-owner; others are refused by the owner', async () => {
    const [w0] = cluster.workers;
    const key = await keyElsewhere('groups');
    const writer = `Bearer ${await idp.idToken({ sub: 'wes', groups: ['writers'] })}`;
    const put = await viaRedirect('PUT', key, writer, 'by a group member');
    assert.equal(put.last.status, 200, put.last.body);
    const get = await viaRedirect('GET', key, writer);
    assert.equal(get.last.status, 200, get.last.body);
    assert.equal(get.last.body, 'by a group member');
    const outsider = `Bearer ${await idp.idToken({ sub: 'otto', groups: ['readers'] })}`;
    const refused = await viaRedirect('GET', key, outsider);
    assert.equal(refused.last.status, 403, refused.last.body);
    assert.match(refused.last.body, /<Code>AccessDenied<\/Code>/);
    // DeleteObjects through worker 0 deletes on the owner as the same user, with the groups.
    const xml = `<Delete><Object><Key>${key}</Key></Object></Delete>`;
    const md5 = createHash('md5').update(xml).digest('base64');
    const del = await rawRequest(w0.s3Port, 'POST', '/data?delete', xml, { authorization: writer, 'content-md5': md5 });
    assert.equal(del.status, 200, del.body);
    assert.match(del.body, new RegExp(`<Deleted><Key>${key}</Key>`));
    assert.doesNotMatch(del.body, /<Error>/);
    assert.equal((await viaRedirect('GET', key, writer)).last.status, 404);
  });

  it('a user in so many groups that the redirect would be too long to follow is proxied instead', async () => {
    const [w0] = cluster.workers;
    const key = await keyElsewhere('many-groups');
    const groups = ['writers', ...Array.from({ length: 300 }, (_, i) => `team-with-a-long-name-${i}`)];
    const member = `Bearer ${await idp.idToken({ sub: 'maya', groups })}`;
    const put = await rawRequest(w0.s3Port, 'PUT', `/data/${key}`, 'proxied, not redirected', { authorization: member });
    assert.equal(put.status, 200, put.body);
    const get = await rawRequest(w0.s3Port, 'GET', `/data/${key}`, undefined, { authorization: member });
    assert.deepEqual([get.status, get.body], [200, 'proxied, not redirected']);
    // The same user with few groups is still redirected.
    assert.equal((await viaRedirect('GET', key, await writerOf('maya'))).last.status, 200);
  });
});
