import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareUtf8 } from '../../../src/ufs/keyOrder.js';

test('orders as UTF-8 bytes, not UTF-16 code units', () => {
  const keys = ['\u{1F600}', '\uFF21', 'a/c', 'a-b', 'a0', 'A', 'é', ''];
  const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  assert.deepEqual([...keys].sort(compareUtf8), byBytes);
  // UTF-16 order would put the emoji (a surrogate pair, 0xD83D...) before U+FF21.
  assert.ok(compareUtf8('\u{1F600}', '\uFF21') > 0);
});

test('a file a-b sorts before the folder a/ which sorts before a0', () => {
  assert.deepEqual(['a0', 'a/', 'a-b'].sort(compareUtf8), ['a-b', 'a/', 'a0']);
});

test('random strings agree with Buffer.compare', () => {
  const alphabet = ['a', 'z', '/', '-', '0', 'é', '\uFFFD', '\u{10348}', '\uE000', ' '];
  for (let i = 0; i < 2000; i++) {
    const mk = () => Array.from({ length: 1 + (i % 5) }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join('');
    const a = mk();
    const b = mk();
    assert.equal(Math.sign(compareUtf8(a, b)), Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))), `${a} vs ${b}`);
  }
});
