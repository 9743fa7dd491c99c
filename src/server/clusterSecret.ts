// The secret workers of one deployment share: it signs forwarded requests, redirect tokens and
// temporary (STS) credentials. Configured, or generated once and kept beside the worker's state
// so every process of the worker, and the worker after a restart, uses the same one.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/** `configured` (strata.cluster.secret) wins; otherwise `<workDir>/cluster.secret`, made on first use. */
export async function loadClusterSecret(configured: string, workDir: string): Promise<Buffer> {
  if (configured) return Buffer.from(configured, 'utf8');
  const file = join(workDir, 'cluster.secret');
  try {
    return Buffer.from((await fsp.readFile(file, 'utf8')).trim(), 'hex');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await fsp.mkdir(workDir, { recursive: true });
  const secret = randomBytes(32);
  try {
    // O_EXCL: two processes starting at once agree on whichever file was made first.
    await fsp.writeFile(file, secret.toString('hex') + '\n', { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return Buffer.from((await fsp.readFile(file, 'utf8')).trim(), 'hex');
  }
}
