// HTTPS beside HTTP, with a certificate made by the test (Debian's openssl), clients that verify
// it (AWS SDK with a custom CA, curl --cacert, boto3 verify=path), HTTPS-only mode, and the
// certificate reloaded on SIGHUP without a restart.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort, type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

/** A self-signed certificate for 127.0.0.1 and localhost, usable as its own CA by the clients. */
function makeCertificate(dir: string, name: string): void {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
}

function peerCommonName(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      const cn = s.getPeerCertificate().subject?.CN;
      s.end();
      resolve(String(cn));
    });
    s.on('error', reject);
  });
}

describe('HTTPS', { timeout: 120_000 }, () => {
  let dir: string;
  let w: RunningWorker;
  let httpsPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'strata-tls-'));
    makeCertificate(dir, 'strata-first');
    httpsPort = await freePort();
    w = await startWorker({
      conf: {
        'strata.security.tls.cert.file': join(dir, 'cert.pem'),
        'strata.security.tls.key.file': join(dir, 'key.pem'),
        'strata.worker.s3.https.port': String(httpsPort),
        'strata.worker.s3.event.loops': '2',
      },
    });
  });
  after(async () => {
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the AWS SDK with a custom CA, curl --cacert and boto3 verify=path', async () => {
    const ca = readFileSync(join(dir, 'cert.pem'));
    const s3 = new S3Client({
      endpoint: `https://127.0.0.1:${httpsPort}`, forcePathStyle: true, region: 'us-east-1',
      credentials: { accessKeyId: 'tls', secretAccessKey: 's' }, requestHandler: { httpsAgent: new Agent({ ca }) },
    });
    try {
      assert.ok((await s3.send(new ListBucketsCommand({}))).Buckets?.some((b) => b.Name === 'data'));
      await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'secure', Body: 'over tls' }));
      assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'secure' }))).Body?.transformToString(), 'over tls');
    } finally {
      s3.destroy();
    }
    const curl = execFileSync('curl', ['-sS', '--cacert', join(dir, 'cert.pem'), `https://127.0.0.1:${httpsPort}/data/secure`], { encoding: 'utf8' });
    assert.equal(curl, 'over tls');
    assert.throws(() => execFileSync('curl', ['-sS', `https://127.0.0.1:${httpsPort}/`], { stdio: 'pipe' }), 'an unknown CA is refused by curl');
    const py = execFileSync('/usr/bin/python3', ['-c', [
      'import boto3, botocore.config, sys',
      `s3 = boto3.client("s3", endpoint_url="https://127.0.0.1:${httpsPort}", verify=sys.argv[1], aws_access_key_id="py", aws_secret_access_key="s", region_name="us-east-1", config=botocore.config.Config(s3={"addressing_style": "path"}))`,
      'print(s3.get_object(Bucket="data", Key="secure")["Body"].read().decode())',
    ].join('\n'), join(dir, 'cert.pem')], { encoding: 'utf8' });
    assert.equal(py.trim(), 'over tls');
    // Plain HTTP goes on beside HTTPS.
    assert.equal(await (await fetch(`${w.s3Url}/data/secure`)).text(), 'over tls');
  });

  test('a client that sends its request and then shuts its side still gets the answer over TLS', async () => {
    const ca = readFileSync(join(dir, 'cert.pem'));
    const answer = await new Promise<string>((resolve, reject) => {
      let out = '';
      const s = connect({ host: '127.0.0.1', port: httpsPort, ca, servername: 'localhost' }, () => {
        s.end('GET /data/half-closed HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
      });
      s.on('data', (d) => (out += d));
      s.on('close', () => resolve(out));
      s.on('error', reject);
      setTimeout(() => resolve(out), 10_000).unref();
    });
    assert.match(answer, /^HTTP\/1\.1 404 /, 'answered, not dropped');
  });

  test('SIGHUP reloads the certificate without a restart', async () => {
    const first = readFileSync(join(dir, 'cert.pem'));
    assert.equal(await peerCommonName(httpsPort, first), 'strata-first');
    makeCertificate(dir, 'strata-second');
    const second = readFileSync(join(dir, 'cert.pem'));
    w.process.kill('SIGHUP');
    await waitFor(async () => (await peerCommonName(httpsPort, second).catch(() => '')) === 'strata-second', 10_000, () => 'the new certificate was not served');
    // Every S3 process took it: several new connections all see it.
    for (let i = 0; i < 6; i++) assert.equal(await peerCommonName(httpsPort, second), 'strata-second');
  });
});

test('strata.worker.s3.only.https.access refuses plain HTTP with an S3 error', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'strata-tls-only-'));
  makeCertificate(dir, 'strata-only');
  const httpsPort = await freePort();
  const w = await startWorker({
    conf: {
      'strata.security.tls.cert.file': join(dir, 'cert.pem'),
      'strata.security.tls.key.file': join(dir, 'key.pem'),
      'strata.worker.s3.https.port': String(httpsPort),
      'strata.worker.s3.only.https.access': 'true',
    },
  });
  try {
    const plain = await fetch(`${w.s3Url}/`);
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /<Code>InvalidRequest<\/Code>.*HTTPS/s);
    const out = execFileSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', join(dir, 'cert.pem'), `https://127.0.0.1:${httpsPort}/`], { encoding: 'utf8' });
    assert.equal(out, '200');
  } finally {
    await w.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
