// `npm run bench`: every benchmark in turn (GET vs nginx, then memory). Flags go to the ones that know
// them; --only get|memory runs one.
//
//   npm run bench -- [--quick] [--only get|memory] [flags of getVsNginx.ts and memory.ts]
import { GET_FLAGS, getOptions, runGetVsNginx } from './getVsNginx.js';
import { parseFlags, runMain } from './lib.js';
import { MEMORY_FLAGS, memoryOptions, runMemory } from './memory.js';

const flags = parseFlags(process.argv.slice(2));
const known = new Set(['only', ...GET_FLAGS, ...MEMORY_FLAGS]);
for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown flag --${k} (known: ${[...known].map((f) => `--${f}`).join(' ')})`);
const only = flags.get('only');
if (only !== undefined && only !== 'get' && only !== 'memory') throw new Error('--only: get or memory');
const g = getOptions(flags);
const m = memoryOptions(flags);

const getLimit = g.sizes.length * g.concurrency.length * g.targets.length * g.repeat * (g.duration + g.warmup + 10) + 120;
const memLimit = 120 + (2 * m.size) / (10 * 1024 * 1024);
await runMain(async () => {
  if (only !== 'memory') {
    await runGetVsNginx(g);
    console.log('');
  }
  if (only !== 'get') await runMemory(m);
}, ((only === 'memory' ? 0 : getLimit) + (only === 'get' ? 0 : memLimit)) * 1000);
