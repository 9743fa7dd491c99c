// boto3 from Debian's python3-boto3 (/usr/bin/python3) against a real worker: runs
// test/integration/py/boto3_flow.py, which prints OK last or exits non-zero with a traceback.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { REPO_ROOT, type RunningWorker, startWorker } from '../helpers/worker.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = join(REPO_ROOT, 'test', 'integration', 'py', 'boto3_flow.py');
const MISSING = `Debian's python3-boto3 is missing (${PYTHON} -c "import boto3" failed): run the README's test command (bash scripts/test.sh), which installs it`;

function run(args: string[], timeout: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(PYTHON, args, { maxBuffer: 16 << 20, timeout, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

describe('boto3 (Debian python3-boto3)', { timeout: 300_000 }, () => {
  let w: RunningWorker;

  before(async () => {
    w = await startWorker();
  });
  after(async () => {
    await w?.stop();
  });

  test('boto3 is importable by /usr/bin/python3', { timeout: 30_000 }, async () => {
    assert.ok(existsSync(PYTHON), MISSING);
    const r = await run(['-c', 'import boto3'], 20_000);
    assert.equal(r.code, 0, `${MISSING}\n${r.stderr}`);
  });

  test('buckets, objects with metadata, paginators, delete_objects, upload/download_fileobj', { timeout: 240_000 }, async () => {
    const probe = await run(['-c', 'import boto3'], 20_000);
    assert.equal(probe.code, 0, `${MISSING}\n${probe.stderr}`);
    assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing`);
    const r = await run([SCRIPT, w.s3Url], 200_000);
    assert.equal(r.code, 0, `boto3_flow.py failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
    assert.equal(r.stdout.trim().split('\n').pop(), 'OK', r.stdout);
  });
});
