// Conditional GET and HEAD (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type RunningWorker, startWorker } from '../helpers/worker.js';

let w: RunningWorker;
let etag = '';
let lastModified = '';

before(async () => {
  w = await startWorker();
  const put = await fetch(`${w.s3Url}/data/cond.txt`, { method: 'PUT', body: 'conditional' });
  assert.equal(put.status, 200);
  etag = put.headers.get('etag')!;
  const head = await fetch(`${w.s3Url}/data/cond.txt`, { method: 'HEAD' });
  lastModified = head.headers.get('last-modified')!;
});
after(() => w.stop());

const get = (headers: Record<string, string>, method = 'GET') => fetch(`${w.s3Url}/data/cond.txt`, { method, headers });
const later = () => new Date(Date.parse(lastModified) + 3600_000).toUTCString();
const earlier = () => new Date(Date.parse(lastModified) - 3600_000).toUTCString();

test('If-Match', { timeout: 10_000 }, async () => {
  assert.equal((await get({ 'If-Match': etag })).status, 200);
  assert.equal((await get({ 'If-Match': '*' })).status, 200);
  const failed = await get({ 'If-Match': '"0000"' });
  assert.equal(failed.status, 412);
  assert.match(await failed.text(), /<Code>PreconditionFailed<\/Code>/);
  assert.equal((await get({ 'If-Match': '"0000"' }, 'HEAD')).status, 412);
});

test('If-None-Match answers 304 with the validators and no body', { timeout: 10_000 }, async () => {
  const r = await get({ 'If-None-Match': etag });
  assert.equal(r.status, 304);
  assert.equal(r.headers.get('etag'), etag);
  assert.equal(await r.text(), '');
  assert.equal((await get({ 'If-None-Match': '"other"' })).status, 200);
});

test('dates, and the precedence S3 follows', { timeout: 10_000 }, async () => {
  assert.equal((await get({ 'If-Modified-Since': later() })).status, 304);
  assert.equal((await get({ 'If-Modified-Since': earlier() })).status, 200);
  assert.equal((await get({ 'If-Unmodified-Since': earlier() })).status, 412);
  assert.equal((await get({ 'If-Unmodified-Since': later() })).status, 200);
  // If-Match true wins over a false If-Unmodified-Since; If-None-Match false + If-Modified-Since true is 304.
  assert.equal((await get({ 'If-Match': etag, 'If-Unmodified-Since': earlier() })).status, 200);
  assert.equal((await get({ 'If-None-Match': etag, 'If-Modified-Since': earlier() })).status, 304);
});
