// The spec's access-logging switch (on: every request; off: only failures) and keep-alive switch.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { startWorker, waitFor } from '../helpers/worker.js';

interface AccessLine {
  type?: string;
  action?: string;
  status?: number;
  user?: string;
  error?: string;
  key?: string;
  requestId?: string;
}

function accessLines(output: string): AccessLine[] {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as AccessLine)
    .filter((l) => l.type === 'access');
}

const auth = 'AWS4-HMAC-SHA256 Credential=loguser/20261125/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0000';

test('access logging on: one line per request with user, action, status', { timeout: 30_000 }, async () => {
  const w = await startWorker({ conf: { 'strata.worker.s3.access.logging.enabled': 'true' } });
  try {
    const put = await fetch(`${w.s3Url}/data/logged`, { method: 'PUT', body: 'x', headers: { authorization: auth } });
    assert.equal(put.status, 200);
    await fetch(`${w.s3Url}/data/missing`, { headers: { authorization: auth } });
    await waitFor(async () => accessLines(w.output()).length >= 2, 5000, () => `no access lines:\n${w.output()}`);
    const lines = accessLines(w.output());
    const ok = lines.find((l) => l.action === 'PutObject');
    assert.deepEqual([ok?.user, ok?.status, ok?.key], ['loguser', 200, 'logged']);
    assert.equal(ok?.requestId, put.headers.get('x-amz-request-id'));
    const failed = lines.find((l) => l.action === 'GetObject');
    assert.deepEqual([failed?.status, failed?.error], [404, 'NoSuchKey']);
    assert.ok(!w.output().includes('Signature=0000'), 'signatures are never logged');
  } finally {
    await w.stop();
  }
});

test('access logging off: only failed requests are logged', { timeout: 30_000 }, async () => {
  const w = await startWorker({ conf: { 'strata.worker.s3.access.logging.enabled': 'false' } });
  try {
    await fetch(`${w.s3Url}/data/quiet`, { method: 'PUT', body: 'x' });
    await fetch(`${w.s3Url}/data/quiet`);
    await fetch(`${w.s3Url}/nobucket/x`);
    await waitFor(async () => accessLines(w.output()).length >= 1, 5000, () => `no access line for the failure:\n${w.output()}`);
    const lines = accessLines(w.output());
    assert.deepEqual(lines.map((l) => [l.action, l.status, l.error]), [['GetObject', 404, 'NoSuchBucket']]);
  } finally {
    await w.stop();
  }
});

test('keep-alive off closes each connection; on keeps it', { timeout: 30_000 }, async () => {
  const connectionHeader = (url: string) =>
    new Promise<string | undefined>((resolve, reject) => {
      const req = request(url, (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers.connection));
      });
      req.on('error', reject);
      req.end();
    });
  const off = await startWorker({ conf: { 'strata.worker.s3.connection.keep.alive.enabled': 'false' } });
  const on = await startWorker();
  try {
    assert.equal(await connectionHeader(`${off.s3Url}/`), 'close');
    assert.equal(await connectionHeader(`${on.s3Url}/`), 'keep-alive');
  } finally {
    await off.stop();
    await on.stop();
  }
});
