// The under-storage contract on the S3 adapter, against an independent S3 server (s3rver in a
// child process on loopback). Each adapter gets its own prefix in one store bucket, so the
// prefix mapping is part of every case.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { S3Ufs } from '../../../src/ufs/s3/s3Ufs.js';
import { type RunningS3rver, startS3rver } from '../../helpers/s3rver.js';
import { underStorageContract } from './contract.js';

let server: RunningS3rver;
let workDir: string;
let n = 0;

before(async () => {
  server = await startS3rver(['contract']);
  workDir = mkdtempSync(join(tmpdir(), 'strata-s3-contract-'));
});

after(async () => {
  await server.stop();
  rmSync(workDir, { recursive: true, force: true });
});

underStorageContract('S3Ufs', async () => {
  const ufs = await S3Ufs.open(`s3://contract/case${++n}/`, { ...server.mountOptions, 'strata.underfs.s3.request.timeout': '10s' }, { workDir });
  return { ufs };
});
