// A bucket mounted from an independent S3 server (s3rver on loopback) with `strata mount add`,
// used through Strata by the AWS SDK; then the store is stopped: requests answer 503 naming the
// mount within a bounded time, and work again once it is back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CopyObjectCommand, CreateMultipartUploadCommand, DeleteObjectCommand,
  GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsCommand, ListObjectsV2Command,
  ListPartsCommand, PutObjectCommand, PutObjectTaggingCommand, S3Client, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { bodyOf, s3Client, s3Error } from '../helpers/s3.js';
import { type RunningS3rver, S3RVER_KEY, startS3rver } from '../helpers/s3rver.js';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const Bucket = 's3b';
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('S3 mount (s3rver as the under-storage)', { timeout: 300_000 }, () => {
  let store: RunningS3rver;
  let w: RunningWorker;
  let s3: S3Client;
  /** Straight to the store, to see what Strata left there. */
  let direct: S3Client;

  before(async () => {
    store = await startS3rver(['ufsbucket']);
    w = await startWorker({ conf: { 'strata.worker.s3.multipart.min.part.size': '1KB', 'strata.worker.s3.event.loops': '1' } });
    const options = { ...store.mountOptions, 'strata.underfs.s3.request.timeout': '3s', 'alluxio.underfs.s3.connect.timeout': '2s', 'underfs.s3.max.error.retry': '1' };
    const args = ['mount', 'add', '--path', `/${Bucket}`, '--ufs-uri', 's3://ufsbucket/pre/fix/'];
    for (const [k, v] of Object.entries(options)) args.push('--option', `${k}=${v}`);
    const out = await w.cli(...args);
    assert.equal(out.code, 0, out.stderr);
    s3 = s3Client(w);
    direct = new S3Client({ endpoint: store.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY } });
  });

  after(async () => {
    s3?.destroy();
    direct?.destroy();
    await w?.stop();
    await store?.stop();
  });

  test('mount list and the admin API show the mount without its secret key', async () => {
    const list = await w.cli('mount', 'list');
    assert.match(list.stdout, /\/s3b\ts3:\/\/ufsbucket\/pre\/fix\/\tmount\t.*s3a\.secretKey=\*\*\*/);
    const api = await (await fetch(`${w.adminUrl}/api/v1/mounts`)).json() as { mounts: Array<{ bucket: string; options: Record<string, string> }> };
    const m = api.mounts.find((x) => x.bucket === Bucket);
    assert.equal(m?.options['s3a.secretKey'], '***');
    assert.equal(m?.options['s3a.accessKeyId'], S3RVER_KEY);
  });

  test('a mount with a wrong endpoint or option is refused at mount add', async () => {
    const bad = await w.cli('mount', 'add', '--path', '/nope', '--ufs-uri', 's3://ufsbucket/', '--option', 'underfs.s3.endpoint=http://127.0.0.1:1',
      '--option', 's3a.accessKeyId=x', '--option', 's3a.secretKey=y', '--option', 'underfs.s3.disable.dns.buckets=true', '--option', 'underfs.s3.max.error.retry=0');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr + bad.stdout, /did not answer|ECONNREFUSED|Cannot mount/);
    const unknown = await w.cli('mount', 'add', '--path', '/nope', '--ufs-uri', 's3://ufsbucket/', '--option', 'underfs.s3.no.such.thing=1');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr + unknown.stdout, /Unknown S3 mount option/);
  });

  test('put, get, ranges, head: bytes and metadata land in the store under the prefix', async () => {
    const body = randomBytes(300_000);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'dir/obj.bin', Body: body, ContentType: 'application/x-test', Metadata: { color: 'blue' } }));
    assert.equal(put.ETag, `"${md5(body)}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/obj.bin' }));
    assert.deepEqual(await bodyOf(got), body);
    assert.equal(got.ContentType, 'application/x-test');
    const range = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/obj.bin', Range: 'bytes=100-199' }));
    assert.deepEqual(await bodyOf(range), body.subarray(100, 200));
    assert.equal(range.ContentRange, `bytes 100-199/${body.length}`);
    const suffix = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/obj.bin', Range: 'bytes=-10' }));
    assert.deepEqual(await bodyOf(suffix), body.subarray(body.length - 10));
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'dir/obj.bin', Range: 'bytes=999999-' })))).code, 'InvalidRange');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'dir/obj.bin' }));
    assert.equal(head.ContentLength, body.length);
    assert.equal(head.ETag, `"${md5(body)}"`);
    assert.deepEqual(head.Metadata, { color: 'blue' });
    const inStore = await direct.send(new HeadObjectCommand({ Bucket: 'ufsbucket', Key: 'pre/fix/dir/obj.bin' }));
    assert.equal(inStore.ContentLength, body.length);
    assert.equal(inStore.Metadata?.['strata-owner'], 'testuser');
    // Large enough for the SDKs to send Expect: 100-continue, on both legs.
    const big = randomBytes(6 * 1024 * 1024 + 5);
    const bigPut = await s3.send(new PutObjectCommand({ Bucket, Key: 'big.bin', Body: big }));
    assert.equal(bigPut.ETag, `"${md5(big)}"`);
    assert.deepEqual(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'big.bin' }))), big);
    assert.deepEqual(await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'big.bin', Range: 'bytes=5000000-' }))), big.subarray(5_000_000));
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'missing' })))).status, 404);
    assert.equal((await s3Error(s3.send(new GetObjectCommand({ Bucket, Key: 'missing' })))).code, 'NoSuchKey');
  });

  test('listings v1 and v2: paging and delimiter go through the store', async () => {
    const keys = ['list/a/1', 'list/a/2', 'list/b', 'list/c/1', 'list/d'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }));
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    assert.deepEqual(seen, keys);
    const delim = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/', Delimiter: '/' }));
    assert.deepEqual((delim.Contents ?? []).map((c) => c.Key), ['list/b', 'list/d']);
    assert.deepEqual((delim.CommonPrefixes ?? []).map((p) => p.Prefix), ['list/a/', 'list/c/']);
    const v1: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectsCommand({ Bucket, Prefix: 'list/', Delimiter: '/', MaxKeys: 1, Marker: marker }));
      v1.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => `CP:${p.Prefix}`));
      if (!page.IsTruncated) break;
      marker = page.NextMarker;
    }
    assert.deepEqual(v1, ['CP:list/a/', 'list/b', 'CP:list/c/', 'list/d']);
    const entry = (await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'list/b' }))).Contents?.[0];
    assert.equal(entry?.ETag, `"${md5('list/b')}"`);
  });

  test('copy (within the store and to a folder bucket), tags, delete', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'src.txt', Body: 'copy me', ContentType: 'text/plain', Tagging: 'k=v' }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'src.txt' }))).TagSet, [{ Key: 'k', Value: 'v' }]);
    const copy = await s3.send(new CopyObjectCommand({ Bucket, Key: 'copy.txt', CopySource: `${Bucket}/src.txt` }));
    assert.equal(copy.CopyObjectResult?.ETag, `"${md5('copy me')}"`);
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'copy.txt' })))).toString(), 'copy me');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'copy.txt' }))).ContentType, 'text/plain');
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'copy.txt' }))).TagSet, [{ Key: 'k', Value: 'v' }]);
    await s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'from-s3.txt', CopySource: `${Bucket}/src.txt` }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'from-s3.txt' })))).toString(), 'copy me');
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'to-s3.txt', CopySource: 'data/from-s3.txt' }));
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'to-s3.txt' })))).toString(), 'copy me');
    await s3.send(new PutObjectTaggingCommand({ Bucket, Key: 'copy.txt', Tagging: { TagSet: [{ Key: 'a', Value: 'b' }] } }));
    assert.deepEqual((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'copy.txt' }))).TagSet, [{ Key: 'a', Value: 'b' }]);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'copy.txt' }));
    assert.equal((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key: 'copy.txt' })))).status, 404);
    assert.equal((await s3Error(direct.send(new HeadObjectCommand({ Bucket: 'ufsbucket', Key: 'pre/fix/copy.txt' })))).status, 404);
  });

  test('multipart upload passes through to the store', async () => {
    const parts = [randomBytes(2048), randomBytes(2048), randomBytes(100)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp.bin', ContentType: 'application/x-mp' }));
    assert.ok(UploadId);
    const done = [];
    for (let i = 0; i < parts.length; i++) {
      const out = await s3.send(new UploadPartCommand({ Bucket, Key: 'mp.bin', UploadId, PartNumber: i + 1, Body: parts[i] }));
      done.push({ PartNumber: i + 1, ETag: out.ETag });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key: 'mp.bin', UploadId }));
    assert.deepEqual(listed.Parts?.map((p) => p.Size), [2048, 2048, 100]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    assert.ok(uploads.Uploads?.some((u) => u.UploadId === UploadId));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'mp.bin', UploadId, MultipartUpload: { Parts: done } }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'mp.bin' }));
    assert.deepEqual(await bodyOf(got), Buffer.concat(parts));
    assert.equal(got.ContentType, 'application/x-mp');
    const inStore = await direct.send(new HeadObjectCommand({ Bucket: 'ufsbucket', Key: 'pre/fix/mp.bin' }));
    assert.equal(inStore.ContentLength, 4196);

    const other = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mp2.bin' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'mp2.bin', UploadId: other.UploadId }));
    assert.equal((await s3Error(s3.send(new ListPartsCommand({ Bucket, Key: 'mp2.bin', UploadId: other.UploadId })))).code, 'NoSuchUpload');
  });

  test('aws CLI: a 20 MiB cp goes up as a multipart upload through to the store, and back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-s3mount-cli-'));
    try {
      const data = randomBytes(20 * 1024 * 1024);
      writeFileSync(join(dir, 'up.bin'), data);
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, AWS_ACCESS_KEY_ID: 'testuser', AWS_SECRET_ACCESS_KEY: 'testpassword',
        AWS_DEFAULT_REGION: 'us-east-1', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', AWS_PAGER: '',
      };
      const aws = (...args: string[]) => new Promise<string>((res, rej) => {
        execFile('/usr/bin/aws', ['--endpoint-url', w.s3Url, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => (err ? rej(new Error(`${err.message}\n${stderr}`)) : res(stdout)));
      });
      await aws('s3', 'cp', join(dir, 'up.bin'), `s3://${Bucket}/cli/up.bin`);
      const head = await direct.send(new HeadObjectCommand({ Bucket: 'ufsbucket', Key: 'pre/fix/cli/up.bin' }));
      assert.equal(head.ContentLength, data.length);
      assert.match(head.ETag ?? '', /"[0-9a-f]{32}(-\d+)?"/);
      await aws('s3', 'cp', `s3://${Bucket}/cli/up.bin`, join(dir, 'down.bin'));
      assert.ok(readFileSync(join(dir, 'down.bin')).equals(data));
      assert.match(await aws('s3', 'ls', `s3://${Bucket}/cli/`), /up\.bin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the store stopped: what was read is served from the cache; the rest answers 503 naming the mount within 10 s; back when it is back', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'before-stop', Body: 'x' }));
    // Read once through Strata (three 1 MiB pages and a bit): cached on the worker's disk.
    const cached = randomBytes(3 * 1024 * 1024 + 17);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'read-before-stop', Body: cached }));
    assert.ok((await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'read-before-stop' })))).equals(cached));
    await store.stop(true);
    const whole = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'read-before-stop' })));
    assert.ok(whole.equals(cached), 'cached object served whole while the store is down');
    const part = await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'read-before-stop', Range: 'bytes=1048570-2097160' })));
    assert.ok(part.equals(cached.subarray(1048570, 2097161)), 'a range across pages served from the cache');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket, Key: 'read-before-stop' }))).ContentLength, cached.length);
    const bounded = async (p: Promise<unknown>) => {
      const started = Date.now();
      const err = await s3Error(p);
      assert.ok(Date.now() - started < 10_000, 'answered within 10 s');
      return err;
    };
    for (const send of [
      () => s3.send(new GetObjectCommand({ Bucket, Key: 'before-stop' })),
      () => s3.send(new ListObjectsV2Command({ Bucket })),
      () => s3.send(new PutObjectCommand({ Bucket, Key: 'during-stop', Body: 'y' })),
      () => s3.send(new DeleteObjectCommand({ Bucket, Key: 'before-stop' })),
    ]) {
      const err = await bounded(send());
      assert.equal(err.status, 503);
      assert.ok(err.code === 'ServiceUnavailable' || err.code === 'SlowDown', err.code);
    }
    const head = await bounded(s3.send(new HeadObjectCommand({ Bucket, Key: 'before-stop' })));
    assert.equal(head.status, 503);
    const raw = await fetch(`${w.s3Url}/${Bucket}/before-stop`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(raw.status, 503);
    assert.match(await raw.text(), new RegExp(`mount ${Bucket}`));
    await store.restart();
    assert.equal((await bodyOf(await s3.send(new GetObjectCommand({ Bucket, Key: 'before-stop' })))).toString(), 'x');
  });
});
