// NGINX_KETAMA picks the server nginx's `hash $uri consistent` picks: Debian's nginx, configured by
// renderNginxUpstream, in front of five tiny HTTP servers that answer their own id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildRing, type RingMember } from '../../src/cluster/ring.js';
import { renderNginxUpstream } from '../../src/cluster/nginxConfig.js';
import { freePort, waitFor } from '../helpers/worker.js';

const NGINX = '/usr/sbin/nginx';
const NOBODY = 65534;
const REQUESTS = 3000;

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~',
  ...' +%?#&=!$\'()*,;:@[]{}^`|\\"<>',
  'é', 'ü', 'ключ', '日本', '😀', '/', '//', '.txt', '.tar.gz',
];
const RAW_OK = new Set([...'+=&@:,;$!\'()*']); // valid unencoded in a path: sometimes sent raw
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** A decoded object path `/bucket/key` and one of the ways a client may encode it. */
function randomPath(rnd: () => number): { decoded: string; raw: string } {
  for (;;) {
    let key = '';
    const len = 1 + Math.floor(rnd() * 12);
    for (let i = 0; i < len; i++) key += PIECES[Math.floor(rnd() * PIECES.length)];
    const decoded = `/bucket-${Math.floor(rnd() * 4)}/${key}`;
    // nginx resolves "." and ".." segments (S3 gateways refuse such keys anyway).
    if (decoded.split('/').some((s) => s === '.' || s === '..')) continue;
    let raw = '';
    for (const ch of decoded) {
      const r = rnd();
      if (ch === '/') raw += r < 0.1 ? '%2F' : '/';
      else if (UNRESERVED.test(ch)) raw += r < 0.15 ? `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}` : ch;
      else if (RAW_OK.has(ch) && r < 0.5) raw += ch;
      else raw += r < 0.5 ? encodeURIComponent(ch) : encodeURIComponent(ch).toLowerCase();
    }
    if (!raw.startsWith('/')) continue; // a request target starts with a raw '/'
    // S3 requests often carry a query (uploadId, partNumber, tagging...): not part of $uri.
    const query = rnd() < 0.2 ? `?partNumber=${Math.floor(rnd() * 100)}&uploadId=u${Math.floor(rnd() * 1e6)}` : '';
    return { decoded, raw: raw + query };
  }
}

async function listen(server: Server): Promise<number> {
  const port = await freePort();
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, '127.0.0.1', () => res());
  });
  return port;
}

function get(agent: Agent, port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path, agent, method: 'GET' }, (r) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => (body += d));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
      r.on('error', rej);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer within 10 s for ${path}`)));
    req.on('error', rej);
    req.end();
  });
}

test('nginx hash $uri consistent sends every path to the server buildRing(NGINX_KETAMA) names', { skip: !existsSync(NGINX) && 'no /usr/sbin/nginx (scripts/install-test-deps.sh)' }, async (t) => {
  const servers: Server[] = [];
  const members: RingMember[] = [];
  let nginx: ChildProcess | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'strata-nginx-ketama-'));
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  try {
    for (let i = 0; i < 5; i++) {
      const id = `upstream-${i}`;
      const server = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id, url: req.url }));
      });
      servers.push(server);
      members.push({ id, address: `127.0.0.1:${await listen(server)}` });
    }
    const port = await freePort();
    const snippet = renderNginxUpstream([...members].reverse(), { listen: `127.0.0.1:${port}`, keepalive: 8 });
    t.diagnostic(`upstream: ${snippet.split('\n').filter((l) => /^ {4}(server|hash) /.test(l)).map((l) => l.trim()).join(' ')}`);
    for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d));
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${snippet}
}
`,
    );
    // Not as root: as any user, in its own folder (-p, -e: Debian's build would otherwise open /var/log/nginx).
    const asRoot = process.getuid?.() === 0;
    if (asRoot) {
      for (const p of ['', 'nginx.conf', 'client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) chownSync(join(dir, p), NOBODY, NOBODY);
    }
    let output = '';
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: the master and its worker stop together
      ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    nginx.stdout!.on('data', (d) => (output += d));
    nginx.stderr!.on('data', (d) => (output += d));
    const started = nginx;
    await waitFor(
      async () => {
        if (started.exitCode !== null) throw new Error(`nginx exited (${started.exitCode}): ${output}${readLog(dir)}`);
        return get(agent, port, '/ready').then(() => true, () => false);
      },
      10_000,
      () => `nginx did not answer within 10 s: ${output}${readLog(dir)}`,
    );

    const ring = buildRing(members, { algorithm: 'NGINX_KETAMA', virtualNodes: 0 });
    const rnd = random(0x5eed5);
    const paths = Array.from({ length: REQUESTS }, () => randomPath(rnd));
    const counts = new Map<string, number>();
    const mismatches: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < paths.length) {
          const { decoded, raw } = paths[next++];
          const r = await get(agent, port, raw);
          assert.equal(r.status, 200, `${raw}: ${r.body}`);
          const answer = JSON.parse(r.body) as { id: string; url: string };
          assert.equal(answer.url, raw, 'nginx passes the request line unchanged');
          const expected = ring.ownerOf(decoded)!.id;
          counts.set(answer.id, (counts.get(answer.id) ?? 0) + 1);
          if (answer.id !== expected) mismatches.push(`${raw} (${JSON.stringify(decoded)}): nginx ${answer.id}, ring ${expected}`);
        }
      }),
    );
    t.diagnostic(`${REQUESTS} paths, answers per server: ${[...counts].map(([id, n]) => `${id}=${n}`).join(' ')}`);
    assert.deepEqual(mismatches, [], `${mismatches.length} of ${REQUESTS} paths went elsewhere than predicted`);
    assert.equal(counts.size, members.length, 'every server got some paths');
  } finally {
    agent.destroy();
    if (nginx?.pid !== undefined && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      try {
        process.kill(-nginx.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-nginx!.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  }
});

function readLog(dir: string): string {
  const f = join(dir, 'error.log');
  return existsSync(f) ? `\n${readFileSync(f, 'utf8')}` : '';
}
