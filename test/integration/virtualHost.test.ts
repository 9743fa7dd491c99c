// Virtual-hosted-style requests (Host: <bucket>.<domain>) beside path style, when domains are configured.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import { rawRequest } from '../helpers/http.js';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

let w: RunningWorker;

before(async () => {
  w = await startWorker({ conf: { 'strata.worker.s3.virtual.host.domains': 's3.strata.test,localhost' } });
});
after(() => w.stop());

const send = (method: string, path: string, host: string, body = '') => rawRequest(w.s3Port, method, path, body, { host });

test('objects and listings through <bucket>.<domain>, and path style still works', { timeout: 30_000 }, async () => {
  assert.equal((await send('PUT', '/dir/vhost.txt', `data.s3.strata.test:${w.s3Port}`, 'virtual')).status, 200);
  assert.equal((await send('GET', '/dir/vhost.txt', 'data.s3.strata.test')).body, 'virtual');
  assert.equal((await send('GET', '/data/dir/vhost.txt', `127.0.0.1:${w.s3Port}`)).body, 'virtual', 'path style beside');
  const list = await send('GET', '/?list-type=2&prefix=dir/', 'data.localhost');
  assert.match(list.body, /<Name>data<\/Name>/);
  assert.match(list.body, /<Key>dir\/vhost.txt<\/Key>/);
  assert.equal((await send('GET', '/x', 'nobucket.localhost')).status, 404);
  // curl addressing the bucket by name, connected to the worker.
  const out = execFileSync('curl', ['-sS', '--connect-to', `data.s3.strata.test:${w.s3Port}:127.0.0.1:${w.s3Port}`, `http://data.s3.strata.test:${w.s3Port}/dir/vhost.txt`], { encoding: 'utf8' });
  assert.equal(out, 'virtual');
});
