import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StorageError } from '../../../src/ufs/errors.js';
import { keyToPath } from '../../../src/ufs/localKeys.js';

const kind = (key: string) => {
  try {
    keyToPath(key);
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof StorageError);
    return e.kind;
  }
};

test('ordinary keys map to relative paths', () => {
  assert.deepEqual(keyToPath('a/b c/ü+&=%.txt'), { rel: 'a/b c/ü+&=%.txt', isFolder: false });
  assert.deepEqual(keyToPath('dir/'), { rel: 'dir', isFolder: true });
  assert.deepEqual(keyToPath('a\\b'), { rel: 'a\\b', isFolder: false });
  assert.deepEqual(keyToPath('.hidden/..x/x..'), { rel: '.hidden/..x/x..', isFolder: false });
});

test('keys that would leave the mount or cannot be files are refused', () => {
  for (const key of ['..', '../x', 'a/../../x', 'a/..', './a', 'a/./b', '/abs', 'a//b', '/', 'a\0b', '.strata.sys/meta/x', 'a/.//']) {
    assert.equal(kind(key), 'InvalidKey', key);
  }
  assert.equal(kind(`${'x'.repeat(256)}/y`), 'KeyTooLong');
});
