// An independent S3 server on loopback for tests: the `s3rver` package in a child process (Node 20
// needs --openssl-legacy-provider for its continuation tokens), on a free port with a temp folder.
// Its only credentials are S3RVER/S3RVER.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './worker.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 's3rverMain.js');

export const S3RVER_KEY = 'S3RVER';

export interface RunningS3rver {
  endpoint: string;
  port: number;
  directory: string;
  process: ChildProcess;
  /** Mount options pointing Strata's S3 adapter at this server. */
  mountOptions: Record<string, string>;
  /** SIGTERM, wait, remove the folder (unless keepData). */
  stop: (keepData?: boolean) => Promise<void>;
  /** Starts it again on the same port and folder (after stop(true)). */
  restart: () => Promise<void>;
}

export async function startS3rver(buckets: string[], opts: { port?: number; directory?: string } = {}): Promise<RunningS3rver> {
  const port = opts.port ?? (await freePort());
  const directory = opts.directory ?? mkdtempSync(join(tmpdir(), 's3rver-'));
  let child = await spawnServer(port, directory, buckets);
  const endpoint = `http://127.0.0.1:${port}`;
  const server: RunningS3rver = {
    endpoint,
    port,
    directory,
    get process() {
      return child;
    },
    mountOptions: {
      's3a.accessKeyId': S3RVER_KEY,
      's3a.secretKey': S3RVER_KEY,
      'underfs.s3.endpoint': endpoint,
      'underfs.s3.endpoint.region': 'us-east-1',
      'underfs.s3.disable.dns.buckets': 'true',
    },
    stop: async (keepData = false) => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((res) => child.once('exit', res));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      if (!keepData) rmSync(directory, { recursive: true, force: true });
    },
    restart: async () => {
      child = await spawnServer(port, directory, buckets);
    },
  };
  return server;
}

function spawnServer(port: number, directory: string, buckets: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', MAIN, String(port), directory, ...buckets], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`s3rver did not start within 15 s:\n${out}`));
    }, 15_000);
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('ready')) {
        clearTimeout(timer);
        res(child);
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`s3rver exited (${code}):\n${out}`));
    });
  });
}
