// Limits that protect a worker from hostile or broken clients, each configurable: concurrent
// connections, header count, URL length, a body that stalls (slowloris), idle kept-alive connections.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type RunningWorker, startWorker, waitFor } from '../helpers/worker.js';

describe('request limits', { timeout: 60_000 }, () => {
  let w: RunningWorker;

  before(async () => {
    w = await startWorker({
      conf: {
        'strata.worker.s3.event.loops': '1',
        'strata.worker.s3.max.connections': '3',
        'strata.worker.s3.max.headers.count': '20',
        'strata.worker.s3.max.url.length': '1KB',
        'strata.worker.s3.body.idle.timeout': '1s',
        'strata.worker.s3.connection.idle.max.time': '1s',
      },
    });
  });
  after(() => w.stop());

  /** Opens a socket, sends `bytes`, and collects what comes back until close or `ms`. */
  function exchange(bytes: string, ms = 5000): { socket: Socket; answer: Promise<string> } {
    const socket = connect(w.s3Port, '127.0.0.1');
    const answer = new Promise<string>((resolve) => {
      let out = '';
      socket.on('data', (d) => (out += d));
      socket.on('error', () => undefined);
      socket.on('close', () => resolve(out));
      setTimeout(() => resolve(out), ms).unref();
    });
    if (bytes) socket.write(bytes);
    return { socket, answer };
  }

  test('connections over the limit get 503 SlowDown, and the worker serves again once they close', async () => {
    const held = [0, 1, 2].map(() => connect(w.s3Port, '127.0.0.1'));
    await Promise.all(held.map((s) => new Promise((r) => s.once('connect', r))));
    await new Promise((r) => setTimeout(r, 100));
    const extra = exchange('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const answer = await extra.answer;
    assert.match(answer, /^HTTP\/1\.1 503/);
    assert.match(answer, /<Code>SlowDown<\/Code>/);
    for (const s of held) s.destroy();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await fetch(`${w.s3Url}/`)).status, 200);
  });

  test('too many header fields: RequestHeaderSectionTooLarge', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 30; i++) headers[`x-filler-${i}`] = 'v';
    const r = await fetch(`${w.s3Url}/data/x`, { headers });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /<Code>RequestHeaderSectionTooLarge<\/Code>/);
  });

  test('a URL over the limit: InvalidURI', async () => {
    const r = await fetch(`${w.s3Url}/data?prefix=${'p'.repeat(2000)}`);
    assert.equal(r.status, 400);
    assert.match(await r.text(), /<Code>InvalidURI<\/Code>/);
  });

  test('a body that stalls gets RequestTimeout and writes nothing', async () => {
    const started = Date.now();
    const { socket, answer } = exchange('PUT /data/stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789', 10_000);
    const out = await answer;
    socket.destroy();
    assert.match(out, /^HTTP\/1\.1 400/);
    assert.match(out, /<Code>RequestTimeout<\/Code>/);
    assert.ok(Date.now() - started < 8000, 'answered about one idle timeout after the client stalled');
    assert.equal((await fetch(`${w.s3Url}/data/stalled`, { method: 'HEAD' })).status, 404);
    // The upload that was reading the body failed with it: no temporary file is left.
    const tmp = join(w.rootUfs, 'data', '.strata.sys', 'tmp');
    await waitFor(async () => !existsSync(tmp) || readdirSync(tmp).length === 0, 10_000, () => `left in ${tmp}: ${readdirSync(tmp).join(', ')}`);
  });

  test('a body that arrives slowly but steadily is not idle', async () => {
    const socket = connect(w.s3Port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.on('error', () => undefined);
    socket.write('PUT /data/steady HTTP/1.1\r\nHost: x\r\nContent-Length: 80\r\n\r\n');
    // 10 bytes every 300 ms: 2.4 s in all, more than the 1 s idle limit, never 1 s quiet.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 300));
      socket.write('0123456789');
    }
    await waitFor(async () => answer.includes('\r\n\r\n'), 10_000, () => `no answer: ${answer}`);
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 200/);
  });

  test('a kept-alive connection idle for connection.idle.max.time is closed, after a GET and after a PUT', async () => {
    for (const request of ['GET /data HTTP/1.1\r\nHost: x\r\n\r\n', 'PUT /data/idle HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello']) {
      const socket = connect(w.s3Port, '127.0.0.1');
      let answer = '';
      socket.on('data', (d) => (answer += d));
      socket.on('error', () => undefined);
      const closed = new Promise<boolean>((resolve) => {
        socket.once('close', () => resolve(true));
        setTimeout(() => resolve(false), 10_000).unref();
      });
      socket.write(request);
      const wasClosed = await closed;
      socket.destroy();
      assert.match(answer, /^HTTP\/1\.1 200/, request);
      assert.doesNotMatch(answer, /Connection: close/i, 'kept alive after the answer');
      assert.ok(wasClosed, `the worker closed the idle connection (${request.split(' ')[0]})`);
    }
  });
});
