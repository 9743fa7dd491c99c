// SIGV4 mode with more real clients than the AWS family: s3cmd and rclone (Debian's packages, each
// signing in its own way: s3cmd signs the payload hash, rclone streams with the Go SDK) and minio-js
// (its own signer, presigned URLs). Keys that need encoding, a multipart upload each, and a wrong
// secret refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client as MinioClient } from 'minio';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

const KEY = { accessKeyId: 'AKIDCLIENTS', secretAccessKey: 'cl/ie+nts=Se%cret&1' };
const ODD_KEY = 'odd/a b+c=d&e~f(1).txt';
const UNICODE_KEY = 'ünï/cødé ø.txt';

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('SIGV4 mode: s3cmd, rclone and minio-js', { timeout: 600_000 }, () => {
  let w: RunningWorker;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-clients-'));
    writeFileSync(join(dir, 'credentials'), `${KEY.accessKeyId} ${KEY.secretAccessKey} clients\n`);
    w = await startWorker({
      conf: {
        'strata.security.authentication.type': 'SIGV4',
        'strata.security.credentials.file': join(dir, 'credentials'),
        'strata.worker.s3.event.loops': '2',
      },
    });
  });
  after(async () => {
    await w?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const s3cmdConfig = (secret: string) => {
    const file = join(dir, `s3cmd-${Math.random().toString(36).slice(2)}.cfg`);
    writeFileSync(file, [
      '[default]',
      `access_key = ${KEY.accessKeyId}`,
      `secret_key = ${secret}`,
      `host_base = 127.0.0.1:${w.s3Port}`,
      `host_bucket = 127.0.0.1:${w.s3Port}`,
      'bucket_location = us-east-1',
      'use_https = False',
      'signature_v2 = False',
      'multipart_chunk_size_mb = 5',
      '',
    ].join('\n'));
    return file;
  };

  test('s3cmd: put (single and multipart), get, ls, del; a wrong secret is refused', async () => {
    const cfg = s3cmdConfig(KEY.secretAccessKey);
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'hello from s3cmd');
    const big = randomBytes(12 * 1024 * 1024 + 5);
    writeFileSync(join(dir, 'big.bin'), big);
    for (const [file, key] of [[small, ODD_KEY], [small, UNICODE_KEY], [join(dir, 'big.bin'), 's3cmd/big.bin']]) {
      const put = await run('/usr/bin/s3cmd', ['-c', cfg, 'put', file, `s3://data/${key}`]);
      assert.equal(put.code, 0, put.stderr + put.stdout);
    }
    const out = join(dir, 'got.bin');
    const get = await run('/usr/bin/s3cmd', ['-c', cfg, '--force', 'get', 's3://data/s3cmd/big.bin', out]);
    assert.equal(get.code, 0, get.stderr);
    assert.ok(readFileSync(out).equals(big), 'multipart upload read back whole');
    const getOdd = await run('/usr/bin/s3cmd', ['-c', cfg, '--force', 'get', `s3://data/${ODD_KEY}`, out]);
    assert.equal(getOdd.code, 0, getOdd.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'hello from s3cmd');
    const ls = await run('/usr/bin/s3cmd', ['-c', cfg, 'ls', '--recursive', 's3://data/']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.ok(ls.stdout.includes(`s3://data/${ODD_KEY}`), ls.stdout);
    assert.ok(ls.stdout.includes(`s3://data/${UNICODE_KEY}`), ls.stdout);
    const del = await run('/usr/bin/s3cmd', ['-c', cfg, 'del', `s3://data/${UNICODE_KEY}`]);
    assert.equal(del.code, 0, del.stderr);
    const wrong = await run('/usr/bin/s3cmd', ['-c', s3cmdConfig('not-the-secret'), 'ls', 's3://data/']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr + wrong.stdout, /SignatureDoesNotMatch|403/);
  });

  // AWS_CA_BUNDLE (set on some machines) makes rclone's Go SDK refuse its own HTTP transport.
  const rcloneEnv = (secret: string): Record<string, string> => ({
    AWS_CA_BUNDLE: '',
    RCLONE_CONFIG: join(dir, 'rclone.conf'),
    RCLONE_CONFIG_STRATA_TYPE: 's3',
    RCLONE_CONFIG_STRATA_PROVIDER: 'Other',
    RCLONE_CONFIG_STRATA_ACCESS_KEY_ID: KEY.accessKeyId,
    RCLONE_CONFIG_STRATA_SECRET_ACCESS_KEY: secret,
    RCLONE_CONFIG_STRATA_ENDPOINT: w.s3Url,
    RCLONE_CONFIG_STRATA_REGION: 'us-east-1',
    RCLONE_CONFIG_STRATA_FORCE_PATH_STYLE: 'true',
  });

  test('rclone: copyto (single and multipart), cat, lsf, deletefile; a wrong secret is refused', async () => {
    const env = rcloneEnv(KEY.secretAccessKey);
    const big = randomBytes(11 * 1024 * 1024 + 3);
    writeFileSync(join(dir, 'rbig.bin'), big);
    writeFileSync(join(dir, 'rsmall.txt'), 'hello from rclone');
    const up = await run('/usr/bin/rclone', ['copyto', join(dir, 'rbig.bin'), 'strata:data/rclone/big.bin', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M'], env);
    assert.equal(up.code, 0, up.stderr);
    const upOdd = await run('/usr/bin/rclone', ['copyto', join(dir, 'rsmall.txt'), `strata:data/rclone/${ODD_KEY}`], env);
    assert.equal(upOdd.code, 0, upOdd.stderr);
    const out = join(dir, 'rgot.bin');
    const down = await run('/usr/bin/rclone', ['copyto', 'strata:data/rclone/big.bin', out], env);
    assert.equal(down.code, 0, down.stderr);
    assert.ok(readFileSync(out).equals(big));
    const cat = await run('/usr/bin/rclone', ['cat', `strata:data/rclone/${ODD_KEY}`], env);
    assert.equal(cat.stdout, 'hello from rclone', cat.stderr);
    const lsf = await run('/usr/bin/rclone', ['lsf', '-R', 'strata:data/rclone/'], env);
    assert.equal(lsf.code, 0, lsf.stderr);
    assert.ok(lsf.stdout.split('\n').includes(ODD_KEY), lsf.stdout);
    const del = await run('/usr/bin/rclone', ['deletefile', `strata:data/rclone/${ODD_KEY}`], env);
    assert.equal(del.code, 0, del.stderr);
    const wrong = await run('/usr/bin/rclone', ['lsf', 'strata:data/', '--retries', '1', '--low-level-retries', '1'], rcloneEnv('not-the-secret'));
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /SignatureDoesNotMatch|403/);
  });

  test('minio-js: put (single and multipart), get, stat, list, presigned GET and PUT; a wrong secret is refused', async () => {
    const client = (secretKey: string) => new MinioClient({
      endPoint: '127.0.0.1', port: w.s3Port, useSSL: false, accessKey: KEY.accessKeyId, secretKey, region: 'us-east-1', pathStyle: true, partSize: 5 * 1024 * 1024,
    });
    const mc = client(KEY.secretAccessKey);
    const big = randomBytes(11 * 1024 * 1024 + 1);
    await mc.putObject('data', 'minio/big.bin', big, big.length);
    await mc.putObject('data', `minio/${ODD_KEY}`, Buffer.from('hello from minio'));
    await mc.putObject('data', `minio/${UNICODE_KEY}`, Buffer.from('ü'));
    const chunks: Buffer[] = [];
    for await (const c of await mc.getObject('data', 'minio/big.bin')) chunks.push(c as Buffer);
    assert.ok(Buffer.concat(chunks).equals(big));
    assert.equal((await mc.statObject('data', `minio/${ODD_KEY}`)).size, 16);
    const names: string[] = [];
    for await (const item of mc.listObjectsV2('data', 'minio/', true)) names.push((item as { name: string }).name);
    assert.deepEqual(names.sort(), ['minio/big.bin', `minio/${ODD_KEY}`, `minio/${UNICODE_KEY}`].sort());
    const getUrl = await mc.presignedGetObject('data', `minio/${ODD_KEY}`, 300);
    assert.equal(await (await fetch(getUrl)).text(), 'hello from minio');
    const putUrl = await mc.presignedPutObject('data', 'minio/presigned put.txt', 300);
    assert.equal((await fetch(putUrl, { method: 'PUT', body: 'via url' })).status, 200);
    assert.equal((await mc.statObject('data', 'minio/presigned put.txt')).size, 7);
    await assert.rejects(
      (async () => {
        for await (const _ of client('not-the-secret').listObjectsV2('data', 'minio/', true)) void _;
      })(),
      (e: { code?: string }) => e.code === 'SignatureDoesNotMatch',
    );
  });
});
