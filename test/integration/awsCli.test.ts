// Debian's AWS CLI (/usr/bin/aws, from the awscli package the README's test command installs)
// against a real worker over loopback. Not whatever `aws` is first on PATH.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const AWS = '/usr/bin/aws';
const T = { timeout: 120_000 };
const MISSING = `${AWS} (Debian's awscli) is missing: run the README's test command (bash scripts/test.sh), which installs it`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('AWS CLI (Debian /usr/bin/aws)', { timeout: 900_000 }, () => {
  let w: RunningWorker;
  let dir: string;
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tmpdir(),
    AWS_ACCESS_KEY_ID: 'testuser',
    AWS_SECRET_ACCESS_KEY: 'testpassword',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_PAGER: '',
  };

  /** Runs /usr/bin/aws with --endpoint-url; never throws (returns the exit code and output). */
  function run(...args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(AWS, ['--endpoint-url', w.s3Url, ...args], { env, maxBuffer: 64 << 20, timeout: 100_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      });
    });
  }
  /** Runs it and requires success. */
  async function aws(...args: string[]): Promise<string> {
    const r = await run(...args);
    assert.equal(r.code, 0, `aws ${args.join(' ')} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  before(async () => {
    w = await startWorker();
    dir = mkdtempSync(join(tmpdir(), 'strata-awscli-'));
  });
  after(async () => {
    await w?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('/usr/bin/aws is installed', T, () => {
    assert.ok(existsSync(AWS), MISSING);
  });

  test('aws s3 ls lists the bucket "data"', T, async () => {
    assert.ok(existsSync(AWS), MISSING);
    const out = await aws('s3', 'ls');
    assert.match(out, /^\S+ \S+ data$/m, out);
  });

  test('aws s3 cp of a 3 MiB random file up and down, byte for byte; ls shows it; rm removes it', T, async () => {
    assert.ok(existsSync(AWS), MISSING);
    const data = randomBytes(3 << 20);
    const src = join(dir, 'three-mib.bin');
    writeFileSync(src, data);
    await aws('s3', 'cp', src, 's3://data/cli/three-mib.bin');
    const down = join(dir, 'three-mib.down');
    await aws('s3', 'cp', 's3://data/cli/three-mib.bin', down);
    assert.ok(readFileSync(down).equals(data), 'same bytes back');
    const ls = await aws('s3', 'ls', 's3://data/cli/');
    assert.match(ls, new RegExp(`\\s${3 << 20} three-mib\\.bin$`, 'm'), ls);
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'data', '--key', 'cli/three-mib.bin'));
    assert.equal(head.ContentLength, 3 << 20);
    assert.equal(head.ETag, `"${createHash('md5').update(data).digest('hex')}"`);
    // Recursive listing and the root of the bucket.
    assert.match(await aws('s3', 'ls', 's3://data/'), /PRE cli\/$/m);
    assert.match(await aws('s3', 'ls', '--recursive', 's3://data/'), /cli\/three-mib\.bin$/m);

    await aws('s3', 'rm', 's3://data/cli/three-mib.bin');
    assert.doesNotMatch(await aws('s3', 'ls', 's3://data/cli/').catch(() => ''), /three-mib\.bin/);
    const gone = await run('s3api', 'head-object', '--bucket', 'data', '--key', 'cli/three-mib.bin');
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /404|Not Found/);
  });

  test('aws s3 cp of a file with spaces and unicode in its name', T, async () => {
    assert.ok(existsSync(AWS), MISSING);
    const src = join(dir, 'héllo wörld.txt');
    writeFileSync(src, 'unicode name\n');
    await aws('s3', 'cp', src, 's3://data/cli/héllo wörld.txt');
    assert.match(await aws('s3', 'ls', 's3://data/cli/'), /héllo wörld\.txt$/m);
    await aws('s3', 'cp', 's3://data/cli/héllo wörld.txt', join(dir, 'back.txt'));
    assert.equal(readFileSync(join(dir, 'back.txt'), 'utf8'), 'unicode name\n');
    await aws('s3', 'rm', 's3://data/cli/héllo wörld.txt');
  });

  test('aws s3api put-object / head-object with metadata and content type; get-object', T, async () => {
    assert.ok(existsSync(AWS), MISSING);
    const src = join(dir, 'meta.txt');
    writeFileSync(src, 'with metadata');
    const put = JSON.parse(await aws('s3api', 'put-object', '--bucket', 'data', '--key', 'cli/meta.txt', '--body', src, '--metadata', 'color=red,shape=round', '--content-type', 'text/plain', '--tagging', 'a=b'));
    assert.equal(put.ETag, `"${createHash('md5').update('with metadata').digest('hex')}"`);
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'data', '--key', 'cli/meta.txt'));
    assert.deepEqual(head.Metadata, { color: 'red', shape: 'round' });
    assert.equal(head.ContentType, 'text/plain');
    assert.equal(head.ContentLength, 13);
    const out = join(dir, 'meta.out');
    const got = JSON.parse(await aws('s3api', 'get-object', '--bucket', 'data', '--key', 'cli/meta.txt', '--range', 'bytes=5-12', out));
    assert.equal(got.ContentRange, 'bytes 5-12/13');
    assert.equal(readFileSync(out, 'utf8'), 'metadata');
    const list = JSON.parse(await aws('s3api', 'list-objects-v2', '--bucket', 'data', '--prefix', 'cli/meta'));
    assert.deepEqual(list.Contents.map((c: { Key: string }) => c.Key), ['cli/meta.txt']);
    await aws('s3api', 'delete-object', '--bucket', 'data', '--key', 'cli/meta.txt');
  });

  test('aws s3 mb / rb', T, async () => {
    assert.ok(existsSync(AWS), MISSING);
    await aws('s3', 'mb', 's3://cli-made');
    assert.match(await aws('s3', 'ls'), /^\S+ \S+ cli-made$/m);
    assert.ok(existsSync(join(w.rootUfs, 'cli-made')));
    // us-east-1's rule: making a bucket you already own again succeeds.
    const again = await run('s3', 'mb', 's3://cli-made');
    assert.equal(again.code, 0, again.stderr);
    const f = join(dir, 'in-bucket.txt');
    writeFileSync(f, 'x');
    await aws('s3', 'cp', f, 's3://cli-made/in-bucket.txt');
    const notEmpty = await run('s3', 'rb', 's3://cli-made');
    assert.notEqual(notEmpty.code, 0);
    assert.match(notEmpty.stderr, /BucketNotEmpty/);
    await aws('s3', 'rb', '--force', 's3://cli-made');
    assert.doesNotMatch(await aws('s3', 'ls'), /cli-made/);
    assert.ok(!existsSync(join(w.rootUfs, 'cli-made')));
  });

  test('aws s3 sync of a small folder tree up and back', T, async () => {
    assert.ok(existsSync(AWS), MISSING);
    const tree = join(dir, 'tree');
    const files: Record<string, string | Buffer> = {
      'top.txt': 'top',
      'a/mid.txt': 'mid',
      'a/b/deep file.txt': 'deep',
      'a/b/c/bin.dat': randomBytes(100_000),
      'z-last.txt': 'last',
      'a-b.txt': 'dash',
    };
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(tree, p, '..'), { recursive: true });
      writeFileSync(join(tree, p), c);
    }
    const up = await aws('s3', 'sync', tree, 's3://data/synced/');
    assert.equal((up.match(/upload:/g) ?? []).length, 6, up);
    const ls = await aws('s3', 'ls', '--recursive', 's3://data/synced/');
    assert.equal(ls.trim().split('\n').length, 6, ls);
    const again = await aws('s3', 'sync', tree, 's3://data/synced/');
    assert.equal(again.trim(), '', `a second sync has nothing to do: ${again}`);

    const back = join(dir, 'back');
    await aws('s3', 'sync', 's3://data/synced/', back);
    assert.deepEqual(filesUnder(back), Object.keys(files).sort());
    for (const [p, c] of Object.entries(files)) assert.ok(readFileSync(join(back, p)).equals(Buffer.from(c)), p);

    // Deleting a local file and syncing with --delete removes the object.
    rmSync(join(tree, 'a', 'mid.txt'));
    await aws('s3', 'sync', '--delete', tree, 's3://data/synced/');
    assert.doesNotMatch(await aws('s3', 'ls', '--recursive', 's3://data/synced/'), /mid\.txt/);
    await aws('s3', 'rm', '--recursive', 's3://data/synced/');
    assert.equal((await aws('s3', 'ls', '--recursive', 's3://data/synced/').catch(() => '')).trim(), '');
  });
});
