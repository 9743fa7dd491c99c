// File descriptors are closed once, and never while a read of them is in flight. A second
// close(2) of a number closes whatever file or socket the kernel handed that number to in
// between: in a worker that was a client connection passed from the primary, which then got no
// answer. fs.close and fs.read are watched (patched before the modules under test are loaded).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { LocalUfs as LocalUfsType } from '../../../src/ufs/localUfs.js';

/** What happened to each fd, in order: 'read>' a read started, '<read' it ended, 'close', 'EBADF'. */
const events: Array<{ fd: number; what: string }> = [];
const realClose = fs.close;
const realRead = fs.read;
(fs as { close: unknown }).close = (fd: number, cb?: (e: NodeJS.ErrnoException | null) => void) => {
  events.push({ fd, what: 'close' });
  realClose(fd, (e) => {
    if (e?.code === 'EBADF') events.push({ fd, what: 'EBADF' });
    cb?.(e);
  });
};
(fs as { read: unknown }).read = (fd: number, ...args: unknown[]) => {
  events.push({ fd, what: 'read>' });
  const cb = args.pop() as (...r: unknown[]) => void;
  (realRead as (...a: unknown[]) => void)(fd, ...args, (...r: unknown[]) => {
    events.push({ fd, what: '<read' });
    cb(...r);
  });
};
syncBuiltinESMExports();

const { LocalUfs } = await import('../../../src/ufs/localUfs.js');
const { FileRangeBody } = await import('../../../src/ufs/fileBody.js');
const { emptyMeta } = await import('../../../src/ufs/ufs.js');

const settle = () => new Promise((r) => setTimeout(r, 100));

describe('file descriptor lifetime', () => {
  let root: string;
  let ufs: LocalUfsType;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'strata-fd-'));
    ufs = await LocalUfs.open(`file://${root}`, root, { fsync: false });
  });
  after(async () => {
    fs.close = realClose;
    fs.read = realRead;
    syncBuiltinESMExports();
    await ufs.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('a write whose body fails half way closes its file once', async () => {
    for (let i = 0; i < 5; i++) {
      events.length = 0;
      let sent = 0;
      const body = new Readable({
        read() {
          if (sent++ < 3) this.push(Buffer.alloc(64 * 1024, 1));
          else this.destroy(new Error('the client went away'));
        },
      });
      await assert.rejects(ufs.write(`k${i}`, [body], () => ({ etag: 'x', meta: emptyMeta() })), /went away/);
      await settle();
      const twice = events.filter((e) => e.what === 'EBADF');
      assert.deepEqual(twice, [], `closed again after its close: ${JSON.stringify(events)}`);
      assert.equal(await ufs.stat(`k${i}`), null, 'no object');
    }
    assert.deepEqual(readdirSync(join(root, '.strata.sys', 'tmp')), [], 'no temporary file left');
  });

  test('a write that succeeds closes its file once', async () => {
    events.length = 0;
    await ufs.write('ok', [Readable.from([Buffer.alloc(200 * 1024, 2)])], () => ({ etag: 'x', meta: emptyMeta() }));
    await settle();
    assert.deepEqual(events.filter((e) => e.what === 'EBADF'), []);
    assert.equal((await ufs.stat('ok'))?.size, 200 * 1024);
  });

  test('a file body destroyed while a read is in flight closes its fd after that read', async () => {
    const fd = fs.openSync(join(root, 'ok'), 'r');
    events.length = 0;
    const body = new FileRangeBody(fd, 0, 200 * 1024 - 1);
    body.read(0); // starts a read
    assert.ok(events.some((e) => e.fd === fd && e.what === 'read>'), 'a read started');
    body.destroy();
    await new Promise((r) => body.once('close', r));
    const mine = events.filter((e) => e.fd === fd).map((e) => e.what);
    assert.deepEqual(mine.slice(-2), ['<read', 'close'], mine.join(' '));
    assert.equal(mine.filter((w) => w === 'close').length, 1);
  });

  test('a file body sent to a client that leaves during a read settles, and closes its fd', async () => {
    const fd = fs.openSync(join(root, 'ok'), 'r');
    events.length = 0;
    const body = new FileRangeBody(fd, 0, 200 * 1024 - 1);
    const client = new Writable({ highWaterMark: 1, write: (_c, _e, cb) => setTimeout(cb, 10) });
    const sending = body.sendTo(client);
    client.destroy(); // while the first read is in flight: its 'close' comes before the read ends
    const settled = await Promise.race([sending.then(() => 'resolved', () => 'rejected'), new Promise((r) => setTimeout(() => r('hung'), 5_000))]);
    assert.equal(settled, 'rejected');
    await settle();
    assert.deepEqual(events.filter((e) => e.fd === fd).map((e) => e.what).slice(-1), ['close']);
  });
});
