// A node:cluster child for test/unit/server/processGroup.test.ts: announces a change through the
// primary and exits at once, before the primary has relayed it and answered.
import { ChildSiblings } from '../../src/server/processGroup.js';

const siblings = new ChildSiblings(async () => undefined);
void siblings.announce({ kind: 'mounts' });
setTimeout(() => process.exit(0), 20);
