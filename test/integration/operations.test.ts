// Operating a worker: metrics that move with traffic, readiness, `strata status`, and a graceful
// drain on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, freePort, startWorker, waitFor } from '../helpers/worker.js';

function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

test('metrics move as requests are served, across processes', { timeout: 60_000 }, async () => {
  const w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '2' } });
  try {
    const before = await (await fetch(`${w.adminUrl}/metrics`)).text();
    const body = randomBytes(10_000);
    for (let i = 0; i < 5; i++) assert.equal((await fetch(`${w.s3Url}/data/m${i}`, { method: 'PUT', body })).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await (await fetch(`${w.s3Url}/data/m${i}`)).arrayBuffer()).byteLength, 10_000);
    await fetch(`${w.s3Url}/data/missing`);
    const after = await (await fetch(`${w.adminUrl}/metrics`)).text();
    const delta = (name: string, labels: Record<string, string> = {}) => metricValue(after, name, labels) - metricValue(before, name, labels);
    assert.equal(delta('strata_s3_requests_total', { action: 'PutObject', status: '200' }), 5);
    assert.equal(delta('strata_s3_requests_total', { action: 'GetObject', status: '200' }), 5);
    assert.equal(delta('strata_s3_requests_total', { action: 'GetObject', status: '404' }), 1);
    assert.equal(delta('strata_s3_bytes_total', { direction: 'in' }), 50_000);
    assert.equal(delta('strata_s3_bytes_total', { direction: 'out' }), 50_000);
    assert.ok(delta('strata_s3_request_duration_seconds_count', { action: 'GetObject' }) >= 6);
    assert.ok(delta('strata_ufs_requests_total', { mount: 'data', op: 'write' }) >= 5);
    // Each GET reached the under-storage once (a read of uncached pages, or a stat for the missing key).
    assert.ok(delta('strata_ufs_requests_total', { mount: 'data', op: 'read' }) + delta('strata_ufs_requests_total', { mount: 'data', op: 'stat' }) >= 6);
    assert.match(after, /strata_process_nodejs_eventloop_lag_seconds/);
    assert.match(after, /strata_s3_open_connections/);
    assert.equal(metricValue(after, 'strata_ring_members'), 1);

    const status = await w.cli('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /requests\s+\d+/);
    assert.match(status.stdout, /\/data\s+file:\/\//);
    assert.match(status.stdout, /404 NoSuchKey\s+GetObject \/data\/missing/);
  } finally {
    await w.stop();
  }
});

test('readiness is true only once every listener and process is up', { timeout: 60_000 }, async () => {
  const workDir = mkdtempSync(join(tmpdir(), 'strata-ready-'));
  const s3Port = await freePort();
  const webPort = await freePort();
  const child = spawn(process.execPath, [CLI, 'worker', 'start', '--embedded', '-D', `strata.work.dir=${workDir}`, '-D', `strata.worker.rest.port=${s3Port}`,
    '-D', `strata.worker.web.port=${webPort}`, '-D', 'strata.worker.bind.host=127.0.0.1', '-D', 'strata.worker.s3.event.loops=3'], { stdio: 'ignore' });
  try {
    const seen: number[] = [];
    await waitFor(async () => {
      const r = await fetch(`http://127.0.0.1:${webPort}/ready`).catch(() => null);
      if (r) seen.push(r.status);
      return r?.status === 200;
    }, 20_000, () => `never ready: ${seen.join(',')}`);
    assert.ok(seen.includes(503), `not ready while the S3 processes start (saw ${seen.join(',')})`);
    // Ready means served: the S3 port answers at once.
    assert.equal((await fetch(`http://127.0.0.1:${s3Port}/`)).status, 200);
    assert.equal((await fetch(`http://127.0.0.1:${webPort}/health`)).status, 200);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('SIGTERM: no new connections, requests in flight finish, exit 0', { timeout: 60_000 }, async () => {
  const w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '2' } });
  const size = 64 << 20;
  assert.equal((await fetch(`${w.s3Url}/data/big`, { method: 'PUT', body: randomBytes(size) })).status, 200);
  // A slow reader: the response is paused while the worker is told to stop.
  let received = 0;
  const download = new Promise<number>((resolve, reject) => {
    get(`${w.s3Url}/data/big`, (res) => {
      res.pause();
      setTimeout(() => {
        res.on('data', (c: Buffer) => (received += c.length));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
        res.resume();
      }, 1500);
    }).on('error', reject);
  });
  await new Promise((r) => setTimeout(r, 300));
  const exited = w.stop();
  await new Promise((r) => setTimeout(r, 500));
  await assert.rejects(fetch(`${w.s3Url}/`), 'no new connections once draining');
  assert.equal(await download, 200);
  assert.equal(received, size, 'the request in flight finished whole');
  assert.equal(await exited, 0);
});

test('the admin API shows the configuration without its secrets', { timeout: 60_000 }, async () => {
  const w = await startWorker({ conf: { 'strata.worker.s3.event.loops': '1', 'strata.cluster.secret': 'do-not-show-me' } });
  try {
    const text = await (await fetch(`${w.adminUrl}/api/v1/conf`)).text();
    assert.ok(!text.includes('do-not-show-me'));
    const conf = (JSON.parse(text) as { conf: Array<{ key: string; value: string }> }).conf;
    assert.equal(conf.find((e) => e.key === 'strata.cluster.secret')?.value, '***');
    assert.equal(conf.find((e) => e.key === 'strata.worker.s3.event.loops')?.value, '1');
  } finally {
    await w.stop();
  }
});
