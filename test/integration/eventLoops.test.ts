// A worker with several S3 processes: a change acknowledged by one process is seen by the next
// request whichever process serves it (new connections are spread over the processes).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

let w: RunningWorker;

before(async () => {
  w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '3' } });
});
after(() => w.stop());

/** One request on its own connection, so that successive requests land on different processes. */
function send(method: string, path: string, body?: string): Promise<{ status: number; text: string; pid?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${w.s3Url}${path}`, { method, agent: false, headers: body ? { 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('bucket and tag changes are seen at once by every process', { timeout: 60_000 }, async () => {
  for (let i = 0; i < 10; i++) {
    const bucket = `loop-bucket-${i}`;
    assert.equal((await send('PUT', `/${bucket}`)).status, 200);
    for (let j = 0; j < 3; j++) assert.equal((await send('HEAD', `/${bucket}`)).status, 200, `bucket ${bucket} seen`);
    assert.equal((await send('PUT', `/${bucket}/k`, 'v')).status, 200);
    const tagging = `<Tagging><TagSet><Tag><Key>n</Key><Value>${i}</Value></Tag></TagSet></Tagging>`;
    assert.equal((await send('PUT', `/${bucket}/k?tagging`, tagging)).status, 200);
    for (let j = 0; j < 3; j++) assert.match((await send('GET', `/${bucket}/k?tagging`)).text, new RegExp(`<Value>${i}</Value>`));
    assert.equal((await send('DELETE', `/${bucket}/k`)).status, 204);
    assert.equal((await send('DELETE', `/${bucket}`)).status, 204);
    for (let j = 0; j < 3; j++) assert.equal((await send('HEAD', `/${bucket}`)).status, 404, `bucket ${bucket} gone`);
  }
});

test('the admin API mounts a bucket that every process serves, and /metrics adds up all processes', { timeout: 60_000 }, async () => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'strata-loops-'));
  writeFileSync(join(dir, 'hello.txt'), 'hi');
  try {
    const out = await w.cli('mount', 'add', '--path', '/loops', '--ufs-uri', `file://${dir}`);
    assert.equal(out.code, 0, out.stderr);
    for (let j = 0; j < 6; j++) assert.equal((await send('GET', '/loops/hello.txt')).text, 'hi');
    const metrics = await (await fetch(`${w.adminUrl}/metrics`)).text();
    const m = /strata_s3_requests_total\{action="GetObject",status="200"\} (\d+)/.exec(metrics);
    assert.ok(m && Number(m[1]) >= 6, 'GetObject requests of all processes are counted');
  } finally {
    await w.cli('mount', 'remove', '/loops');
    rmSync(dir, { recursive: true, force: true });
  }
});
