// The under-storage contract on the folder adapter.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalUfs } from '../../../src/ufs/localUfs.js';
import { underStorageContract } from './contract.js';

underStorageContract('LocalUfs', async () => {
  const root = mkdtempSync(join(tmpdir(), 'strata-contract-'));
  const ufs = await LocalUfs.open(`file://${root}`, root, { fsync: false });
  return { ufs, cleanup: async () => rmSync(root, { recursive: true, force: true }) };
});
