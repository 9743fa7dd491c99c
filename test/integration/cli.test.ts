// The strata command against running workers: mount add/list/remove (kept across a restart),
// conf get under both spellings, CreateBucket without a root folder, and atomic replacement
// as seen by concurrent readers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import {
  CreateBucketCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, ListBucketsCommand,
  ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException,
} from '@aws-sdk/client-s3';
import { runCli, type RunningWorker, startWorker } from '../helpers/worker.js';

const T = { timeout: 60_000 };

const client = (w: RunningWorker) => new S3Client({
  endpoint: w.s3Url,
  forcePathStyle: true,
  region: 'us-east-1',
  credentials: { accessKeyId: 'testuser', secretAccessKey: 'testpassword' },
  maxAttempts: 1,
});

async function bodyOf(out: { Body?: unknown }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of out.Body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

async function s3Error(p: Promise<unknown>): Promise<{ code: string; status?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3ServiceException, `expected an S3 error response, got ${String(e)}`);
    return { code: e.name, status: e.$metadata.httpStatusCode, message: e.message };
  }
  assert.fail('expected the request to fail');
}

describe('strata CLI', { timeout: 600_000 }, () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const tempDir = (prefix: string) => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    cleanups.push(() => rmSync(d, { recursive: true, force: true }));
    return d;
  };

  test('mount add / list / remove; a foreign file is served; mounts survive a restart', T, async () => {
    const workDir = tempDir('strata-cli-work-');
    const ufs = tempDir('strata-cli-ufs-');
    mkdirSync(join(ufs, 'sub'));
    writeFileSync(join(ufs, 'foreign.txt'), 'written before the mount');
    writeFileSync(join(ufs, 'sub', 'nested.bin'), Buffer.from([1, 2, 3]));

    let w = await startWorker({ workDir });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await w.stop();
    });
    let s3 = client(w);
    try {
      const added = await w.cli('mount', 'add', '--path', '/extra', '--ufs-uri', `file://${ufs}`);
      assert.equal(added.code, 0, `mount add failed:\n${added.stderr}\n${added.stdout}`);

      const buckets = await s3.send(new ListBucketsCommand({}));
      assert.ok(buckets.Buckets?.some((b) => b.Name === 'extra'), JSON.stringify(buckets.Buckets));
      await s3.send(new HeadBucketCommand({ Bucket: 'extra' }));
      const list = await s3.send(new ListObjectsV2Command({ Bucket: 'extra' }));
      assert.deepEqual(list.Contents?.map((c) => [c.Key, c.Size]), [['foreign.txt', 24], ['sub/nested.bin', 3]]);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'extra', Key: 'foreign.txt' }));
      assert.equal((await bodyOf(got)).toString(), 'written before the mount');
      assert.match(got.ETag ?? '', /^"[0-9a-f]{32}-1"$/, `a foreign file gets a derived ETag ending in -1: ${got.ETag}`);
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'extra', Key: 'foreign.txt' }));
      assert.equal(head.ETag, got.ETag, 'HEAD and GET agree on the ETag');
      assert.equal(list.Contents?.[0].ETag, got.ETag, 'the listing agrees too');

      const listed = await w.cli('mount', 'list');
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(`^/extra\\s+file://${ufs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`, 'm'), listed.stdout);
      assert.match(listed.stdout, /^\/data\s/m, 'the embedded bucket is listed too');

      // Writes through the new bucket land in the folder.
      await s3.send(new PutObjectCommand({ Bucket: 'extra', Key: 'new/through-s3.txt', Body: 'via s3' }));
      assert.equal(readFileSync(join(ufs, 'new', 'through-s3.txt'), 'utf8'), 'via s3');

      // Restart on the same work folder: the mount is still there.
      assert.equal(await w.stop(), 0, 'SIGTERM exits 0');
      stopped = true;
      s3.destroy();
      w = await startWorker({ workDir });
      stopped = false;
      s3 = client(w);
      const after = await s3.send(new GetObjectCommand({ Bucket: 'extra', Key: 'foreign.txt' }));
      assert.equal((await bodyOf(after)).toString(), 'written before the mount', 'the mount survived the restart');
      assert.equal(after.ETag, got.ETag, 'the derived ETag is stable across a restart');
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'extra', Key: 'new/through-s3.txt' }))).Body!.transformToString(), 'via s3');
      assert.match((await w.cli('mount', 'list')).stdout, /^\/extra\s/m);

      // Remove: the bucket goes, the files stay.
      const removed = await w.cli('mount', 'remove', '/extra');
      assert.equal(removed.code, 0, removed.stderr);
      assert.ok(!(await s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'extra'));
      assert.equal((await s3Error(s3.send(new HeadBucketCommand({ Bucket: 'extra' })))).status, 404);
      assert.doesNotMatch((await w.cli('mount', 'list')).stdout, /^\/extra\s/m);
      assert.equal(readFileSync(join(ufs, 'foreign.txt'), 'utf8'), 'written before the mount', 'unmounting leaves the data');
      assert.ok(existsSync(join(ufs, 'sub', 'nested.bin')));

      // And the removal survives a restart as well.
      await w.stop();
      stopped = true;
      s3.destroy();
      w = await startWorker({ workDir });
      stopped = false;
      s3 = client(w);
      assert.ok(!(await s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'extra'));
    } finally {
      s3.destroy();
    }
  });

  test('mount add of a missing folder or an existing bucket fails clearly', T, async () => {
    const w = await startWorker();
    try {
      const missing = await w.cli('mount', 'add', '--path', '/nowhere', '--ufs-uri', 'file:///no/such/folder/anywhere');
      assert.notEqual(missing.code, 0, 'mounting a missing folder fails');
      assert.ok(missing.stderr.trim().length > 0, 'with a message');
      const dup = await w.cli('mount', 'add', '--path', '/data', '--ufs-uri', `file://${tmpdir()}`);
      assert.notEqual(dup.code, 0, 'mounting over an existing bucket fails');
      const remove = await w.cli('mount', 'remove', '/not-mounted');
      assert.notEqual(remove.code, 0, 'removing an unknown mount fails');
    } finally {
      await w.stop();
    }
  });

  test('strata conf get under both spellings, with -D', T, async () => {
    const a = await runCli(['conf', 'get', 'strata.worker.rest.port']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout.trim(), '29998');
    const b = await runCli(['conf', 'get', 'alluxio.worker.rest.port', '-D', 'alluxio.worker.rest.port=1234']);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(b.stdout.trim(), '1234');
    const c = await runCli(['conf', 'get', 'alluxio.worker.rest.port']);
    assert.equal(c.stdout.trim(), '29998', 'the alluxio spelling reads the same key');
    const d = await runCli(['conf', 'get', 'strata.worker.rest.port', '-D', 'alluxio.worker.rest.port=4321']);
    assert.equal(d.stdout.trim(), '4321', 'a value set under one spelling is read under the other');
  });

  test('CreateBucket without a root folder is refused with InvalidRequest pointing to mount add', T, async () => {
    const w = await startWorker({ embedded: false, conf: { 'strata.root.ufs': '' } });
    const s3 = client(w);
    try {
      const e = await s3Error(s3.send(new CreateBucketCommand({ Bucket: 'wanted-bucket' })));
      assert.deepEqual([e.code, e.status], ['InvalidRequest', 400]);
      assert.match(e.message, /mount add/);
      assert.ok(!(await s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'wanted-bucket'));
    } finally {
      s3.destroy();
      await w.stop();
    }
  });

  test('a GET during a concurrent large PUT sees the old or the new object whole', T, async () => {
    const w = await startWorker();
    const s3 = client(w);
    try {
      const v1 = randomBytes(8 << 20);
      const v2 = randomBytes(8 << 20);
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'atomic.bin', Body: v1 }));
      // v2 goes up slowly (a stream in 128 KiB pieces with pauses) so that many GETs overlap it.
      async function* slow() {
        for (let off = 0; off < v2.length; off += 128 << 10) {
          yield v2.subarray(off, off + (128 << 10));
          await sleep(10);
        }
      }
      let writing = true;
      const writer = s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'atomic.bin', Body: Readable.from(slow()), ContentLength: v2.length }))
        .finally(() => { writing = false; });
      let reads = 0;
      let sawV1 = 0;
      let sawV2 = 0;
      const reader = async () => {
        while (writing) {
          const body = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'atomic.bin' })));
          if (body.equals(v1)) sawV1++;
          else if (body.equals(v2)) sawV2++;
          else assert.fail(`GET ${reads} saw neither version whole (${body.length} bytes)`);
          reads++;
        }
      };
      await Promise.all([writer, reader(), reader()]);
      assert.ok(sawV1 > 0, `some GETs ran while the PUT was in flight (${reads} reads)`);
      const final = await bodyOf(await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'atomic.bin' })));
      assert.ok(final.equals(v2), 'after the PUT, the new version');
      const tmp = join(w.rootUfs, 'data', '.strata.sys', 'tmp');
      assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'no temporary file left behind');
    } finally {
      s3.destroy();
      await w.stop();
    }
  });

  test('concurrent PUTs of one key end with one of them whole, and nothing left behind', T, async () => {
    const w = await startWorker();
    const s3 = client(w);
    try {
      const { createHash } = await import('node:crypto');
      for (let round = 0; round < 3; round++) {
        const versions = Array.from({ length: 8 }, () => randomBytes(1 << 20));
        await Promise.all(versions.map((Body, i) => s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'race.bin', Body, ContentType: `application/x-v${i}`, Metadata: { v: String(i) } }))));
        const got = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'race.bin' }));
        const final = await bodyOf(got);
        const i = versions.findIndex((v) => v.equals(final));
        assert.ok(i >= 0, `the final object is one whole version (${final.length} bytes)`);
        assert.equal(got.ETag, `"${createHash('md5').update(final).digest('hex')}"`, 'the ETag belongs to the bytes served');
        assert.deepEqual([got.ContentType, got.Metadata?.v], [`application/x-v${i}`, String(i)], 'type and metadata belong to the bytes served');
      }
      const tmp = join(w.rootUfs, 'data', '.strata.sys', 'tmp');
      assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'no temporary file left behind');
    } finally {
      s3.destroy();
      await w.stop();
    }
  });
});
