// Announcements between the processes of one worker (server/processGroup.ts), with real
// node:cluster children: a child that dies before the primary answers it does not end the primary.
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Change } from '../../../src/objects/siblings.js';
import { PrimarySiblings } from '../../../src/server/processGroup.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'helpers', 'siblingChild.js');

test('a child that announces a change and dies before the answer leaves the primary running', async () => {
  const applied: Change[] = [];
  // Slower than the child's life: the answer goes to a child that is gone.
  new PrimarySiblings(async (change) => {
    applied.push(change);
    await new Promise((r) => setTimeout(r, 300));
  });
  cluster.setupPrimary({ exec: CHILD, silent: true });
  const child = cluster.fork();
  await new Promise((r) => child.once('exit', r));
  // Past the moment the primary answers the dead child.
  await new Promise((r) => setTimeout(r, 600));
  assert.deepEqual(applied, [{ kind: 'mounts' }]);
  assert.equal(process.exitCode ?? 0, 0);
});
