// The folder adapter: listings in S3 order with delimiters and markers, folder objects,
// atomic writes, foreign files and pruning of emptied folders.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { compareUtf8 } from '../../../src/ufs/keyOrder.js';
import { LocalUfs } from '../../../src/ufs/localUfs.js';
import { emptyMeta, type ListRequest } from '../../../src/ufs/ufs.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function put(ufs: LocalUfs, key: string, body: string | Buffer) {
  const buf = Buffer.from(body);
  return ufs.write(key, [Readable.from([buf])], () => ({ etag: md5(buf), meta: { ...emptyMeta(), contentType: 'text/plain' } }));
}

async function listAll(ufs: LocalUfs, req: Partial<ListRequest>, pageSize: number) {
  const keys: string[] = [];
  let after = req.after ?? '';
  for (let i = 0; i < 1000; i++) {
    const page = await ufs.list({ prefix: '', delimiter: '', ...req, after, maxKeys: pageSize });
    const items = [...page.entries.map((e) => e.key), ...page.commonPrefixes.map((p) => `CP:${p}`)];
    items.sort((a, b) => compareUtf8(a.replace(/^CP:/, ''), b.replace(/^CP:/, '')));
    keys.push(...items);
    if (!page.isTruncated) return keys;
    after = page.last!;
  }
  throw new Error('listing did not end');
}

describe('LocalUfs', () => {
  let root: string;
  let ufs: LocalUfs;
  const keys = ['a-b', 'a/c', 'a/d/e', 'a/d/f', 'a0', 'b', 'b c/x', 'z/\u{1F600}', 'z/\uFF21', 'é'];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'strata-ufs-'));
    ufs = await LocalUfs.open(`file://${root}`, root, { fsync: false });
    for (const k of keys) await put(ufs, k, `body of ${k}`);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test('lists every key in UTF-8 byte order across folders, hiding the system folder', async () => {
    const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(await listAll(ufs, {}, 1000), sorted);
    for (const size of [1, 2, 3]) assert.deepEqual(await listAll(ufs, {}, size), sorted, `page size ${size}`);
  });

  test('delimiter / rolls folders into common prefixes, and pages do not repeat them', async () => {
    const expected = ['a-b', 'CP:a/', 'a0', 'b', 'CP:b c/', 'CP:z/', 'é'];
    assert.deepEqual(await listAll(ufs, { delimiter: '/' }, 1000), expected);
    for (const size of [1, 2, 4]) assert.deepEqual(await listAll(ufs, { delimiter: '/' }, size), expected, `page size ${size}`);
  });

  test('prefix inside a folder and a non-slash delimiter', async () => {
    assert.deepEqual(await listAll(ufs, { prefix: 'a/d/' }, 1000), ['a/d/e', 'a/d/f']);
    assert.deepEqual(await listAll(ufs, { prefix: 'a/', delimiter: '/' }, 1000), ['a/c', 'CP:a/d/']);
    assert.deepEqual(await listAll(ufs, { prefix: 'a', delimiter: '-' }, 1000), ['CP:a-', 'a/c', 'a/d/e', 'a/d/f', 'a0']);
    assert.deepEqual(await listAll(ufs, { delimiter: 'd' }, 1000), ['a-b', 'a/c', 'CP:a/d', 'a0', 'b', 'b c/x', 'z/\uFF21', 'z/\u{1F600}', 'é']);
  });

  test('a prefix with an empty, "." or ".." segment matches nothing, in one untruncated page', async () => {
    for (const prefix of ['/', '/a', '//', 'a//', 'a//c', './a', 'a/./', 'a/../a/']) {
      const page = await ufs.list({ prefix, delimiter: '', after: '', maxKeys: 2 });
      assert.deepEqual([page.entries.length, page.commonPrefixes.length, page.isTruncated], [0, 0, false], prefix);
    }
  });

  test('a marker inside a rolled-up folder still yields the prefix when later keys exist', async () => {
    const page = await ufs.list({ prefix: '', delimiter: '/', after: 'a/c', maxKeys: 10 });
    assert.deepEqual(page.commonPrefixes.slice(0, 1), ['a/']);
    const none = await ufs.list({ prefix: '', delimiter: '/', after: 'a/d/f', maxKeys: 1 });
    assert.deepEqual([...none.commonPrefixes, ...none.entries.map((e) => e.key)], ['a0']);
  });

  test('folder objects: explicit ones list, implicit parents do not, empty folders do', async () => {
    await put(ufs, 'f/', '');
    mkdirSync(join(root, 'g-empty'));
    const all = await listAll(ufs, {}, 1000);
    assert.ok(all.includes('f/'));
    assert.ok(all.includes('g-empty/'));
    assert.ok(!all.includes('a/') && !all.includes('a/d/'));
    assert.equal((await ufs.stat('f/'))?.isFolder, true);
    assert.equal(await ufs.stat('a/'), null);
    await ufs.delete('f/');
    assert.equal(await ufs.stat('f/'), null);
  });

  test('deleting the last key of a folder prunes the folders it leaves empty', async () => {
    await put(ufs, 'p/q/r/s', 'x');
    await ufs.delete('p/q/r/s');
    assert.ok(!readdirSync(root).includes('p'));
  });

  test('a file written behind our back is served with a derived ETag, and a rewrite is noticed', async () => {
    writeFileSync(join(root, 'foreign.txt'), 'hello');
    const st = await ufs.stat('foreign.txt');
    assert.equal(st?.size, 5);
    assert.match(st!.etag, /^[0-9a-f]{32}-1$/);
    const mine = await put(ufs, 'mine.txt', 'hello');
    assert.equal(mine.etag, md5(Buffer.from('hello')));
    writeFileSync(join(root, 'mine.txt'), 'changed!');
    const after = await ufs.stat('mine.txt');
    assert.equal(after?.size, 8);
    assert.notEqual(after?.etag, mine.etag);
    assert.equal(after?.meta.contentType, undefined);
  });

  test('a failed write leaves nothing visible and no temporary file', async () => {
    const failing = new Transform({
      transform(chunk, _enc, done) {
        done(new Error('client went away'));
      },
    });
    await assert.rejects(ufs.write('never', [Readable.from([Buffer.from('data')]), failing], () => ({ etag: 'x', meta: emptyMeta() })));
    assert.equal(await ufs.stat('never'), null);
    assert.deepEqual(readdirSync(join(root, '.strata.sys', 'tmp')), []);
  });

  test('an object and a folder of the same name conflict', async () => {
    await assert.rejects(put(ufs, 'b/x', 'y'), (e: Error & { kind?: string }) => e.kind === 'Conflict');
    await assert.rejects(put(ufs, 'a', 'y'), (e: Error & { kind?: string }) => e.kind === 'Conflict');
  });

  test('a key lock left by a dead process does not block the key', async () => {
    const lock = join(root, '.strata.sys', 'locks', createHash('sha1').update('locked-key').digest('hex'));
    // A pid far above pid_max: no such process.
    writeFileSync(lock, `${hostname()} 99999999`);
    const started = Date.now();
    await put(ufs, 'locked-key', 'written');
    assert.ok(Date.now() - started < 5000, 'the abandoned lock was taken over at once');
    assert.equal((await ufs.stat('locked-key'))?.size, 7);
    // A lock held by a live process (this one) is waited for, and a condition runs under it.
    writeFileSync(lock, `${hostname()} ${process.pid}`);
    setTimeout(() => rmSync(lock, { force: true }), 200);
    const t0 = Date.now();
    await put(ufs, 'locked-key', 'again');
    assert.ok(Date.now() - t0 >= 150, 'the write waited for the lock');
  });

  test('ranged reads return exactly the bytes asked for', async () => {
    await put(ufs, 'r', '0123456789');
    const read = await ufs.read('r', () => ({ start: 2, end: 5 }));
    const chunks: Buffer[] = [];
    for await (const c of read!.body) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), '2345');
  });
});
