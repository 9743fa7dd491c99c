// Debian's nginx (/usr/sbin/nginx) as a test load balancer: its own prefix, pid, logs and temp
// folders in a temp folder, not as root (nobody when the tests run as root), on a free loopback port.
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './worker.js';

export const NGINX = '/usr/sbin/nginx';
const NOBODY = 65534;
const TEMPS = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'];

export interface RunningNginx {
  /** The master's pid (its workers are its children). */
  pid: number;
  port: number;
  url: string;
  log: () => string;
  stop: () => Promise<void>;
}

/** Starts nginx with `httpBlock` (upstream + server listening on 127.0.0.1:`port`) inside `http { }`. */
export async function startNginx(port: number, httpBlock: string): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), 'strata-nginx-'));
  for (const d of TEMPS) mkdirSync(join(dir, d));
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
${TEMPS.map((d) => `  ${d}_temp_path ${dir}/${d};`).join('\n')}
${httpBlock}
}
`);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) for (const p of ['', 'nginx.conf', ...TEMPS]) chownSync(join(dir, p), NOBODY, NOBODY);
  let output = '';
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: master and worker stop together
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const log = () => output + (existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : '');
  const stop = async () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${log()}`);
      return fetch(`http://127.0.0.1:${port}/`).then(() => true, () => false);
    }, 10_000, () => `nginx did not answer within 10 s: ${log()}`);
  } catch (e) {
    await stop();
    throw e;
  }
  return { pid: child.pid!, port, url: `http://127.0.0.1:${port}`, log, stop };
}

/** Patterns A and B (docs/load-balancers.md): round robin over the workers, streaming both ways. */
export function roundRobinBlock(port: number, addresses: string[]): string {
  return `upstream strata_workers {
    ${addresses.map((a) => `server ${a};`).join('\n    ')}
    keepalive 64;
  }
  server {
    listen 127.0.0.1:${port};
    merge_slashes off;
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_buffer_size 256k;
    proxy_buffers 4 256k;
    proxy_busy_buffers_size 512k;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    location / {
      proxy_pass http://strata_workers;
    }
  }`;
}
