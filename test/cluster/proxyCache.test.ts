// The proxy cache (cluster/proxyCache.ts): a worker that proxied a small object keeps its bytes,
// and the next GET of that version costs the owner the headers alone. The owner still checks every
// request: writes through any worker, changes behind the gateway's back, ranges, conditions and
// response overrides answer as they would without the cache, and no client can ask an owner to
// leave the body out.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { type Cluster, addressOf, counter, ringOf, startCluster } from '../helpers/cluster.js';
import { rawRequest } from '../helpers/http.js';
import { bodyOf, s3Client } from '../helpers/s3.js';
import { signForward } from '../../src/cluster/signing.js';

const hits = (c: Cluster, i: number) => counter(c.workers[i], 'strata_proxy_cache_answers_total', 'answer="hit"');
const fills = (c: Cluster, i: number) => counter(c.workers[i], 'strata_proxy_cache_answers_total', 'answer="fill"');

describe('cluster, proxy cache', () => {
  let cluster: Cluster;
  let clients: S3Client[];
  let n = 0;
  const policyDir = mkdtempSync(join(tmpdir(), 'strata-proxy-cache-policy-'));

  before(async () => {
    // bob may not read held/: the owner decides that on every request, held copy or not.
    const policy = join(policyDir, 'policy.json');
    writeFileSync(policy, JSON.stringify({
      rules: [
        { principals: ['*'], actions: ['*'], buckets: ['*'] },
        { principals: ['bob'], actions: ['read'], buckets: ['data'], prefixes: ['held/'], effect: 'deny' },
      ],
    }));
    cluster = await startCluster({
      n: 3,
      conf: {
        'strata.security.authorization.policy.file': policy,
        // Changes made behind the gateway's back are seen at the next request.
        'strata.user.file.metadata.sync.interval': '0',
        'strata.worker.s3.proxy.cache.max.object.size': '64KB',
      },
      // The third worker proxies without a cache: the same answers, every byte from the owner.
      perWorker: [{}, {}, { 'strata.worker.s3.proxy.cache.size': '0' }],
    });
    clients = cluster.workers.map((w) => s3Client(w));
  });

  after(async () => {
    for (const c of clients ?? []) c.destroy();
    await cluster?.stop();
    rmSync(policyDir, { recursive: true, force: true });
  });

  /** A fresh key that worker 1 owns (so workers 0 and 2 proxy it). */
  async function keyOwnedBy1(): Promise<string> {
    const owner = addressOf(cluster.workers[1]);
    for (;;) {
      const key = `held/${n++}`;
      if ((await ringOf(cluster.workers[0], `/data/${key}`)).owner === owner) return key;
    }
  }

  const get = (i: number, key: string, headers: Record<string, string> = {}, query = '') =>
    rawRequest(cluster.workers[i].s3Port, 'GET', `/data/${key}${query}`, undefined, headers);

  it('a second GET through a non-owner sends the bytes held there, with the headers the owner gives', async () => {
    const key = await keyOwnedBy1();
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'held bytes', ContentType: 'text/x-held', Metadata: { m: 'v' } }));
    const [hits0, fills0] = [await hits(cluster, 0), await fills(cluster, 0)];
    const first = await get(0, key);
    assert.equal(await fills(cluster, 0), fills0 + 1, 'the first answer was kept');
    const second = await get(0, key);
    assert.equal(await hits(cluster, 0), hits0 + 1, 'the second was sent from the held copy');
    const direct = await get(1, key);
    for (const a of [first, second]) {
      assert.equal(a.status, 200);
      assert.equal(a.body, 'held bytes');
      for (const h of ['content-length', 'content-type', 'etag', 'last-modified', 'x-amz-meta-m']) assert.equal(a.headers[h], direct.headers[h], h);
      assert.deepEqual(Object.keys(a.headers).filter((h) => h.startsWith('x-strata-')), [], 'no internal header reaches the client');
    }
    // The AWS SDK gets the same object.
    const sdk = await clients[0].send(new GetObjectCommand({ Bucket: 'data', Key: key }));
    assert.equal((await bodyOf(sdk)).toString(), 'held bytes');
    assert.equal(sdk.ContentType, 'text/x-held');
    assert.equal(sdk.Metadata?.m, 'v');
  });

  it('a write through any worker, or behind the gateway, is seen by the next GET through the holder', async () => {
    const key = await keyOwnedBy1();
    // Same lengths: only the owner's version check tells the copies apart.
    await clients[2].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'version one' }));
    await get(0, key);
    assert.equal((await get(0, key)).body, 'version one');
    await clients[2].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'version two' }));
    assert.equal((await get(0, key)).body, 'version two');
    assert.equal((await get(0, key)).body, 'version two');
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'version 333' }));
    assert.equal((await get(0, key)).body, 'version 333');
    writeFileSync(join(cluster.shared, 'data', key), 'written behind the gateway');
    assert.equal((await get(0, key)).body, 'written behind the gateway');
    assert.equal((await get(2, key)).body, 'written behind the gateway');
    // Deleted through another worker: NoSuchKey through the holder, which lets its copy go.
    assert.equal((await get(0, key)).body, 'written behind the gateway');
    const heldBytes = await counter(cluster.workers[0], 'strata_proxy_cache_bytes');
    await clients[2].send(new DeleteObjectCommand({ Bucket: 'data', Key: key }));
    const gone = await get(0, key);
    assert.equal(gone.status, 404);
    assert.match(gone.body, /<Code>NoSuchKey<\/Code>/);
    assert.equal(await counter(cluster.workers[0], 'strata_proxy_cache_bytes'), heldBytes - 'written behind the gateway'.length);
  });

  it('every acknowledged write is seen by the next GET through the holder, while others read at once', async () => {
    const key = await keyOwnedBy1();
    const fills0 = await fills(cluster, 0);
    for (let i = 0; i < 40; i++) {
      const body = `round ${String(i).padStart(3, '0')} ${i % 2 ? 'odd.' : 'even'}`; // one length for all
      await clients[i % 2 ? 2 : 1].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: body }));
      const answers = await Promise.all(Array.from({ length: 4 }, () => get(0, key)));
      for (const a of answers) assert.equal(a.body, body, `round ${i}`);
    }
    // Concurrent misses of one version fill the copy once at most.
    assert.ok((await fills(cluster, 0)) - fills0 <= 40);
  });

  it('ranges, conditions and response overrides are answered from the held copy as the owner would', async () => {
    const key = await keyOwnedBy1();
    const bytes = Buffer.from('0123456789abcdefghij');
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: bytes }));
    await get(0, key);
    const hits0 = await hits(cluster, 0);
    const part = await get(0, key, { range: 'bytes=2-5' });
    assert.equal(part.status, 206);
    assert.equal(part.body, '2345');
    assert.equal(part.headers['content-range'], `bytes 2-5/${bytes.length}`);
    assert.equal(part.headers['content-length'], '4');
    const suffix = await get(0, key, { range: 'bytes=-3' });
    assert.equal(suffix.body, 'hij');
    const etag = String(part.headers.etag);
    assert.equal((await get(0, key, { 'if-none-match': etag })).status, 304);
    const failed = await get(0, key, { 'if-match': '"not-it"' });
    assert.equal(failed.status, 412);
    assert.match(failed.body, /<Code>PreconditionFailed<\/Code>/);
    assert.equal((await get(0, key, { range: 'bytes=100-200' })).status, 416);
    // The conditions come before an unsatisfiable range (RFC 9110), as a read at the owner does.
    assert.equal((await get(0, key, { range: 'bytes=100-200', 'if-none-match': etag })).status, 304);
    assert.equal((await get(0, key, { range: 'bytes=100-', 'if-match': '"nope"' })).status, 412);
    assert.equal((await get(1, key, { range: 'bytes=100-200', 'if-none-match': etag })).status, 304);
    assert.equal((await get(0, key, { range: 'bytes=100-200', 'if-match': etag })).status, 416);
    const renamed = await get(0, key, {}, '?response-content-type=text%2Fx-other');
    assert.equal(renamed.headers['content-type'], 'text/x-other');
    assert.equal(renamed.body, bytes.toString());
    // A part of a one-PUT object is the whole object, as a ranged answer.
    const one = await get(0, key, {}, '?partNumber=1');
    assert.equal(one.status, 206);
    assert.equal(one.body, bytes.toString());
    assert.equal(one.headers['x-amz-mp-parts-count'], undefined, 'no parts count: not uploaded in parts');
    assert.equal(one.headers['content-range'], `bytes 0-${bytes.length - 1}/${bytes.length}`);
    assert.equal((await get(0, key, {}, '?partNumber=2')).status, 416);
    assert.equal(await hits(cluster, 0), hits0 + 4, 'the two ranges, the override and the part came from the held copy');
    // The worker without a cache answers the same.
    const plain = await get(2, key, { range: 'bytes=2-5' });
    assert.equal(plain.body, '2345');
    assert.equal(await hits(cluster, 2), 0);
  });

  it('a user the owner refuses gets AccessDenied though the proxy holds the object', async () => {
    const key = await keyOwnedBy1();
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'not for bob' }));
    await get(0, key);
    const hits0 = await hits(cluster, 0);
    assert.equal((await get(0, key)).body, 'not for bob');
    assert.equal(await hits(cluster, 0), hits0 + 1);
    // SIMPLE authentication: the user is the access key the Authorization header names.
    const bob = { authorization: 'AWS4-HMAC-SHA256 Credential=bob/20261125/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0' };
    const refused = await get(0, key, bob);
    assert.equal(refused.status, 403);
    assert.match(refused.body, /<Code>AccessDenied<\/Code>/);
    assert.doesNotMatch(refused.body, /not for bob/);
    assert.equal((await get(0, key, { range: 'bytes=0-2' , ...bob })).status, 403);
  });

  it('empty objects and objects over strata.worker.s3.proxy.cache.max.object.size are not kept', async () => {
    const empty = await keyOwnedBy1();
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: empty, Body: '' }));
    const before = await fills(cluster, 0);
    for (let i = 0; i < 2; i++) {
      const a = await get(0, empty);
      assert.deepEqual([a.status, a.body, a.headers['content-length']], [200, '', '0']);
    }
    assert.equal(await fills(cluster, 0), before);
    const key = await keyOwnedBy1();
    const big = Buffer.alloc(65 * 1024, 7);
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: big }));
    const fills0 = await fills(cluster, 0);
    for (let i = 0; i < 2; i++) assert.equal((await get(0, key)).body.length, big.length);
    assert.equal(await fills(cluster, 0), fills0);
  });

  it('only a worker with the cluster secret can ask an owner to leave the body out', async () => {
    const key = await keyOwnedBy1();
    await clients[1].send(new PutObjectCommand({ Bucket: 'data', Key: key, Body: 'secret body' }));
    const owner = cluster.workers[1];
    const path = `/data/${key}`;
    const secret = Buffer.from(cluster.conf['strata.cluster.secret']);
    const marked = (held?: string) => ({
      'x-strata-forwarded': signForward(secret, 'GET', path, undefined, held),
      ...(held === undefined ? {} : { 'x-strata-held-version': held }),
    });
    // A forwarded request that would keep the bytes (held version "-", signed) learns their version...
    const fill = await rawRequest(owner.s3Port, 'GET', path, undefined, marked('-'));
    assert.equal(fill.body, 'secret body');
    const version = String(fill.headers['x-strata-version']);
    assert.ok(version.length > 1);
    assert.equal((await rawRequest(owner.s3Port, 'GET', path, undefined, marked())).headers['x-strata-version'], undefined, 'only when asked');
    // ...and, holding it, gets the headers alone.
    const heldAnswer = await rawRequest(owner.s3Port, 'GET', path, undefined, marked(version));
    assert.equal(heldAnswer.body, '');
    assert.equal(heldAnswer.headers['x-strata-held'], String('secret body'.length));
    // The held version is part of what the marker signs: one added to a signed request is refused.
    const added = await rawRequest(owner.s3Port, 'GET', path, undefined, { ...marked(), 'x-strata-held-version': version });
    assert.equal(added.status, 403);
    assert.match(added.body, /forwarding marker/);
    // A client naming the same version gets the body, from the owner or through a proxy.
    const direct = await rawRequest(owner.s3Port, 'GET', path, undefined, { 'x-strata-held-version': version });
    assert.equal(direct.body, 'secret body');
    assert.equal(direct.headers['x-strata-version'], undefined);
    for (const i of [0, 2]) {
      const proxied = await get(i, key, { 'x-strata-held-version': version });
      assert.equal(proxied.body, 'secret body');
      assert.equal(proxied.headers['x-strata-held'], undefined);
    }
  });
});
