import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { heldSlice, ProxyCache } from '../../../src/cluster/proxyCache.js';

describe('ProxyCache', () => {
  it('keeps objects by path and version, least recently used out first, within its bytes', () => {
    const c = new ProxyCache(10, 6);
    c.set('/b/a', 'v1', Buffer.from('aaaa'));
    c.set('/b/b', 'v1', Buffer.from('bbbb'));
    assert.equal(c.size, 8);
    assert.equal(c.get('/b/a')?.version, 'v1'); // a is now the most recent
    c.set('/b/c', 'v1', Buffer.from('cccc'));
    assert.equal(c.get('/b/b'), undefined, 'b was the least recently used');
    assert.equal(c.get('/b/a')?.bytes.toString(), 'aaaa');
    assert.equal(c.size, 8);
    c.set('/b/a', 'v2', Buffer.from('AA'));
    assert.deepEqual([c.get('/b/a')?.version, c.size], ['v2', 6], 'a new version replaces the old');
    c.delete('/b/a');
    assert.equal(c.size, 4);
  });

  it('refuses empty objects and objects over the largest size, and does nothing when disabled', () => {
    const c = new ProxyCache(10, 6);
    assert.equal(c.accepts(7), false);
    assert.equal(c.accepts(0), false);
    c.set('/b/x', 'v', Buffer.alloc(7));
    assert.equal(c.get('/b/x'), undefined);
    const off = new ProxyCache(0, 6);
    assert.equal(off.enabled, false);
    off.set('/b/x', 'v', Buffer.alloc(1));
    assert.equal(off.size, 0);
  });

  it('reserves room for objects on their way in: held and in flight together stay within the capacity', () => {
    const c = new ProxyCache(10, 6);
    c.set('/b/old', 'v', Buffer.from('oooo'));
    const a = c.startFill('/b/a', 'v1', 6)!;
    assert.ok(a);
    assert.equal(c.size, 10);
    assert.equal(c.startFill('/b/a', 'v1', 6), undefined, 'one fill per path at a time');
    const b = c.startFill('/b/b', 'v1', 5);
    assert.equal(b, undefined, 'no room: the only entry was evicted and 6 bytes are in flight');
    assert.equal(c.get('/b/old'), undefined);
    a.add(Buffer.from('abc'));
    a.add(Buffer.from('def'));
    assert.equal(a.finish(), true);
    assert.equal(c.get('/b/a')?.bytes.toString(), 'abcdef');
    assert.equal(c.size, 6);
    assert.equal(c.startFill('/b/a', 'v1', 6), undefined, 'that version is held already');
    // A short body or a failed answer keeps nothing and gives the room back.
    const short = c.startFill('/b/s', 'v', 4)!;
    short.add(Buffer.from('ab'));
    assert.equal(short.finish(), false);
    assert.equal(c.get('/b/s'), undefined);
    const failed = c.startFill('/b/f', 'v', 4)!;
    failed.add(Buffer.from('abcd'));
    failed.abandon();
    failed.abandon();
    assert.equal(failed.finish(), false);
    assert.equal(c.get('/b/f'), undefined);
    assert.equal(c.size, 6);
  });

  it('deleteIf leaves a newer copy alone', () => {
    const c = new ProxyCache(10, 6);
    c.set('/b/a', 'v1', Buffer.from('a1'));
    const first = c.get('/b/a')!;
    c.set('/b/a', 'v2', Buffer.from('a2'));
    c.deleteIf('/b/a', first);
    assert.equal(c.get('/b/a')?.version, 'v2');
    c.deleteIf('/b/a', c.get('/b/a')!);
    assert.equal(c.get('/b/a'), undefined);
    assert.equal(c.size, 0);
  });

  it('slices the held bytes an answer names, and refuses an answer that does not fit them', () => {
    const held = { version: 'v', bytes: Buffer.from('0123456789') };
    assert.equal(heldSlice(held, 200, undefined, 10)?.toString(), '0123456789');
    assert.equal(heldSlice(held, 200, undefined, 9), undefined);
    assert.equal(heldSlice(held, 206, 'bytes 2-4/10', 3)?.toString(), '234');
    assert.equal(heldSlice(held, 206, 'bytes 2-4/11', 3), undefined, 'another object size');
    assert.equal(heldSlice(held, 206, 'bytes 8-10/10', 3), undefined, 'past the end');
    assert.equal(heldSlice(held, 206, 'bytes 2-4/10', 2), undefined, 'length and range disagree');
    assert.equal(heldSlice(held, 206, undefined, 3), undefined);
    assert.equal(heldSlice(held, 304, undefined, 0), undefined);
  });
});
