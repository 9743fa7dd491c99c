// Debian's AWS CLI (/usr/bin/aws) and boto3 (python3-boto3) against a real worker.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, type RunningWorker, startWorker } from '../helpers/worker.js';

const run = promisify(execFile);
const AWS = '/usr/bin/aws';
const PYTHON = '/usr/bin/python3';
const MISSING = 'is missing: run the README test command (bash scripts/test.sh), which installs it';

describe('Debian clients', { timeout: 300_000 }, () => {
  let w: RunningWorker;
  let dir: string;
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'cliuser',
    AWS_SECRET_ACCESS_KEY: 'testpassword',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
  };
  const aws = async (...args: string[]) => (await run(AWS, ['--endpoint-url', w.s3Url, ...args], { env, maxBuffer: 64 << 20 })).stdout;

  before(async () => {
    w = await startWorker();
    dir = mkdtempSync(join(tmpdir(), 'strata-cli-'));
  });
  after(async () => {
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('AWS CLI: ls, cp up and down (single and multipart), sync, mb/rb, s3api', async () => {
    assert.ok(existsSync(AWS), `${AWS} ${MISSING}`);
    assert.match(await aws('s3', 'ls'), /\bdata\b/);
    for (const size of [3 << 20, 40 << 20]) {
      const src = join(dir, `up-${size}`);
      writeFileSync(src, randomBytes(size));
      await aws('s3', 'cp', src, `s3://data/cli/up-${size}`);
      await aws('s3', 'cp', `s3://data/cli/up-${size}`, join(dir, `down-${size}`));
      assert.ok(readFileSync(src).equals(readFileSync(join(dir, `down-${size}`))), `${size} bytes round trip`);
    }
    assert.match(await aws('s3', 'ls', 's3://data/cli/'), /up-41943040/);
    const head = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'data', '--key', 'cli/up-41943040'));
    assert.equal(head.ContentLength, 40 << 20);
    assert.match(head.ETag, /-\d+"$/, 'a 40 MiB cp is a multipart upload');

    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'a', 'b'), { recursive: true });
    writeFileSync(join(tree, 'top.txt'), 'top');
    writeFileSync(join(tree, 'a', 'mid.txt'), 'mid');
    writeFileSync(join(tree, 'a', 'b', 'deep file.txt'), 'deep');
    await aws('s3', 'sync', tree, 's3://data/synced/');
    const back = join(dir, 'back');
    await aws('s3', 'sync', 's3://data/synced/', back);
    assert.equal(readFileSync(join(back, 'a', 'b', 'deep file.txt'), 'utf8'), 'deep');
    assert.equal(readFileSync(join(back, 'top.txt'), 'utf8'), 'top');

    await aws('s3api', 'put-object', '--bucket', 'data', '--key', 'cli/meta', '--body', join(tree, 'top.txt'), '--metadata', 'color=red', '--content-type', 'text/plain');
    const meta = JSON.parse(await aws('s3api', 'head-object', '--bucket', 'data', '--key', 'cli/meta'));
    assert.deepEqual(meta.Metadata, { color: 'red' });
    assert.equal(meta.ContentType, 'text/plain');

    await aws('s3', 'rm', 's3://data/cli/up-3145728');
    assert.doesNotMatch(await aws('s3', 'ls', 's3://data/cli/'), /up-3145728/);
    await aws('s3', 'mb', 's3://cli-bucket');
    assert.match(await aws('s3', 'ls'), /cli-bucket/);
    await aws('s3', 'rb', 's3://cli-bucket');
    assert.doesNotMatch(await aws('s3', 'ls'), /cli-bucket/);
  });

  test('boto3: buckets, objects, paginators, transfers, deletes', async () => {
    await run(PYTHON, ['-c', 'import boto3']).catch(() => assert.fail(`python3-boto3 ${MISSING}`));
    const { stdout } = await run(PYTHON, [join(REPO_ROOT, 'test', 'integration', 'py', 'boto3_smoke.py'), w.s3Url], { maxBuffer: 16 << 20 });
    assert.equal(stdout.trim().split('\n').pop(), 'OK');
  });
});
