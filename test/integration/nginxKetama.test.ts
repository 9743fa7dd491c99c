// NGINX_KETAMA picks the server nginx's `hash $uri consistent` picks: Debian's nginx, configured by
// renderNginxUpstream, in front of five tiny HTTP servers that answer their own id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { Agent, createServer, request, type Server } from 'node:http';
import { buildRing, type RingMember } from '../../src/cluster/ring.js';
import { renderNginxUpstream } from '../../src/cluster/nginxConfig.js';
import { NGINX, type RunningNginx, startNginx } from '../helpers/nginx.js';
import { freePort } from '../helpers/worker.js';

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
  let nginx: RunningNginx | undefined;
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
    nginx = await startNginx(port, snippet);

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
    await nginx?.stop();
    for (const s of servers) s.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
});
