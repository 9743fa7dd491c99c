// SIGV4 mode with the other real clients: Debian's AWS CLI (/usr/bin/aws: s3api, `s3 cp` of a
// large file, `s3 presign` used with curl) and boto3 (/usr/bin/python3: put/get/list, multipart,
// presigned GET and PUT URLs used with curl).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, REPO_ROOT, type RunningWorker, startWorker } from '../helpers/worker.js';

const USER = { accessKeyId: 'AKIDCLI', secretAccessKey: 'cli/Secret+With=Chars' };

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, {
      maxBuffer: 64 << 20,
      timeout: 200_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? tmpdir(), AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null', ...env },
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('SIGV4 mode: AWS CLI, boto3, curl', { timeout: 600_000 }, () => {
  let w: RunningWorker;
  let dir: string;
  let httpsPort: number;
  const awsEnv = { AWS_ACCESS_KEY_ID: USER.accessKeyId, AWS_SECRET_ACCESS_KEY: USER.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
  const aws = (...args: string[]) => run('/usr/bin/aws', ['--endpoint-url', w.s3Url, ...args], awsEnv);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-sigv4-clients-'));
    writeFileSync(join(dir, 'credentials'), `${USER.accessKeyId} ${USER.secretAccessKey} cliuser\n`);
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=strata-sigv4',
      '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    httpsPort = await freePort();
    w = await startWorker({
      conf: {
        'strata.security.authentication.type': 'SIGV4',
        'strata.security.credentials.file': join(dir, 'credentials'),
        'strata.security.tls.cert.file': join(dir, 'cert.pem'),
        'strata.security.tls.key.file': join(dir, 'key.pem'),
        'strata.worker.s3.https.port': String(httpsPort),
      },
    });
  });
  after(async () => {
    await w?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('AWS CLI: s3api with keys that need encoding, s3 cp of a large file both ways, s3 ls', async () => {
    for (const key of ['cli/a b+c.txt', 'cli/50%=half&more.txt', 'cli/ünï €.txt']) {
      const src = join(dir, 'small.txt');
      writeFileSync(src, `body of ${key}`);
      const put = await aws('s3api', 'put-object', '--bucket', 'data', '--key', key, '--body', src);
      assert.equal(put.code, 0, put.stderr);
      const got = join(dir, 'got.txt');
      const get = await aws('s3api', 'get-object', '--bucket', 'data', '--key', key, got);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(readFileSync(got, 'utf8'), `body of ${key}`);
    }
    const big = randomBytes(20 * 1024 * 1024);
    writeFileSync(join(dir, 'big.bin'), big);
    const up = await aws('s3', 'cp', join(dir, 'big.bin'), 's3://data/cli/big file.bin');
    assert.equal(up.code, 0, up.stderr);
    const down = await aws('s3', 'cp', 's3://data/cli/big file.bin', join(dir, 'big.back'));
    assert.equal(down.code, 0, down.stderr);
    assert.ok(readFileSync(join(dir, 'big.back')).equals(big));
    const ls = await aws('s3', 'ls', 's3://data/cli/');
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /big file\.bin/);
    assert.match(ls.stdout, /50%=half&more\.txt/);
  });

  test('AWS CLI: a wrong secret is refused; s3 presign works with curl', async () => {
    const wrong = await run('/usr/bin/aws', ['--endpoint-url', w.s3Url, 's3', 'ls', 's3://data/'], { ...awsEnv, AWS_SECRET_ACCESS_KEY: 'nope' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /SignatureDoesNotMatch/);
    const presign = await aws('s3', 'presign', 's3://data/cli/a b+c.txt', '--expires-in', '300');
    assert.equal(presign.code, 0, presign.stderr);
    const curl = await run('curl', ['-sS', '-f', presign.stdout.trim()]);
    assert.equal(curl.code, 0, curl.stderr);
    assert.equal(curl.stdout, 'body of cli/a b+c.txt');
  });

  test('boto3: put/get/list, multipart, wrong secret; presigned GET and PUT URLs used with curl', async () => {
    const script = join(REPO_ROOT, 'test', 'integration', 'py', 'boto3_sigv4.py');
    const r = await run('/usr/bin/python3', [script, w.s3Url, USER.accessKeyId, USER.secretAccessKey]);
    assert.equal(r.code, 0, `boto3_sigv4.py failed:\n${r.stderr}\n${r.stdout}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.pop(), 'OK');
    const urls = JSON.parse(lines.pop()!) as { get: string; put: string };
    const get = await run('curl', ['-sS', '-f', urls.get]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(get.stdout, 'body of py/a b+c.txt');
    const src = join(dir, 'put.txt');
    writeFileSync(src, 'put by curl');
    const put = await run('curl', ['-sS', '-f', '-X', 'PUT', '--upload-file', src, urls.put]);
    assert.equal(put.code, 0, put.stderr + put.stdout);
    const check = await aws('s3', 'cp', 's3://data/py/presigned put=1.txt', '-');
    assert.equal(check.stdout, 'put by curl');
    // The same URL with a different method is refused.
    const wrongMethod = await run('curl', ['-sS', '-X', 'DELETE', urls.get]);
    assert.match(wrongMethod.stdout, /SignatureDoesNotMatch/);
  });

  test('AWS CLI over HTTPS (unsigned payloads with checksums), host with port signed', async () => {
    const https = (...args: string[]) => run('/usr/bin/aws', ['--endpoint-url', `https://localhost:${httpsPort}`, '--ca-bundle', join(dir, 'cert.pem'), ...args], awsEnv);
    const src = join(dir, 'tls.bin');
    const body = randomBytes(9 * 1024 * 1024);
    writeFileSync(src, body);
    const up = await https('s3', 'cp', src, 's3://data/tls/over https+1.bin');
    assert.equal(up.code, 0, up.stderr);
    const down = await https('s3', 'cp', 's3://data/tls/over https+1.bin', join(dir, 'tls.back'));
    assert.equal(down.code, 0, down.stderr);
    assert.ok(readFileSync(join(dir, 'tls.back')).equals(body));
    const wrong = await run('/usr/bin/aws', ['--endpoint-url', `https://localhost:${httpsPort}`, '--ca-bundle', join(dir, 'cert.pem'), 's3', 'ls', 's3://data/'], { ...awsEnv, AWS_SECRET_ACCESS_KEY: 'nope' });
    assert.match(wrong.stderr, /SignatureDoesNotMatch/);
  });
});
