// The admin HTTP server (strata.worker.web.port): /health, /ready, /metrics and the admin API
// under /api/v1/ that the CLI uses (mounts, configuration, status), and the status page at /.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { RingDescription } from '../cluster/clusterView.js';
import type { Config } from '../server/config.js';
import type { ObjectService } from '../objects/objectService.js';
import { ObjectError } from '../objects/errors.js';
import { type FailureEntry, type Sample, type Totals, totalsOf } from './status.js';
import { STATUS_PAGE } from './statusPage.js';
import { cacheTotalsOf } from './cacheMetrics.js';

export interface AdminDeps {
  objects: ObjectService;
  config: Config;
  /** The Prometheus text of this worker (all of its processes). */
  render: () => Promise<string>;
  contentType: string;
  /** Readiness: listeners up, mount table loaded. */
  isReady: () => boolean;
  /** The user the admin API acts as (the worker's user in SIMPLE mode). */
  adminUser: string;
  /** The cluster's ring as this worker sees it, and who serves `path` (/api/v1/ring). */
  ring?: (path?: string) => RingDescription;
  /** The worker's own view for the status page. */
  status: () => WorkerStatusBase;
  /**
   * Verified modes: who calls the admin API (/api/...), or a refusal; undefined leaves it open
   * (SIMPLE mode). /health, /ready, /metrics and the page at / stay open.
   */
  checkAdmin?: (req: IncomingMessage) => { user: string } | { status: number; error: string; message: string };
}

export interface WorkerStatusBase {
  startedAt: string;
  pid: number;
  eventLoops: number;
  s3Port: number;
  webPort: number;
  hostname: string;
  history: Sample[];
  recentErrors: FailureEntry[];
}

/** /api/v1/status: what the status page and `strata status` show. */
export interface WorkerStatus extends WorkerStatusBase {
  now: string;
  totals: Totals;
  mounts: Array<{ bucket: string; ufsUri: string; origin: string; createdAt: string }>;
  /** Page cache folders; empty when the cache is off. */
  cache: Array<{ dir: string; usedBytes: number; capacityBytes: number; pages?: number }>;
  /** Finding the cache's pages on disk after a start (runs in the background). */
  cacheRestore?: { state: string; pages: number; bytes: number; seconds: number };
  ring: Array<{ address: string; alive: boolean; self: boolean }>;
}

const MAX_JSON_BYTES = 64 * 1024;

export function createAdminServer(deps: AdminDeps): Server {
  return createServer((req, res) => {
    route(req, res, deps).catch((e) => {
      const status = e instanceof ObjectError ? statusOf(e) : 500;
      sendJson(res, status, { error: e instanceof ObjectError ? e.code : 'InternalError', message: (e as Error).message });
    });
  });
}

function statusOf(e: ObjectError): number {
  switch (e.code) {
    case 'NoSuchBucket':
      return 404;
    case 'BucketAlreadyExists':
    case 'BucketAlreadyOwnedByYou':
      return 409;
    default:
      return 400;
  }
}

const SECRET_KEY = /secret|password|token/i;

async function route(req: IncomingMessage, res: ServerResponse, deps: AdminDeps): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  if (path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (path === '/ready') {
    const ready = deps.isReady();
    return sendJson(res, ready ? 200 : 503, { ready });
  }
  if (path === '/metrics') {
    const text = await deps.render();
    res.writeHead(200, { 'Content-Type': deps.contentType });
    res.end(text);
    return;
  }
  if (path === '/' && method === 'GET') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(STATUS_PAGE) });
    res.end(STATUS_PAGE);
    return;
  }
  let adminUser = deps.adminUser;
  if (deps.checkAdmin && path.startsWith('/api/')) {
    const who = deps.checkAdmin(req);
    if (!('user' in who)) return sendJson(res, who.status, { error: who.error, message: who.message });
    adminUser = who.user;
  }
  if (path === '/api/v1/status' && method === 'GET') {
    const base = deps.status();
    const status: WorkerStatus = {
      ...base,
      now: new Date().toISOString(),
      totals: totalsOf(await deps.render()),
      mounts: deps.objects.listBuckets().map((m) => ({ bucket: m.bucket, ufsUri: m.ufsUri, origin: m.origin, createdAt: m.createdAt })),
      ...(await deps.objects.cacheStats().then(
        (c) => ({ cache: c.dirs.map((d) => ({ dir: d.dir, usedBytes: d.usedBytes, capacityBytes: d.capacityBytes, pages: d.pages })), cacheRestore: c.restore }),
        () => ({ cache: [] }),
      )),
      ring: deps.ring
        ? deps.ring().members.map((m) => ({ address: m.address, alive: m.alive, self: m.self }))
        : [{ address: `${base.hostname}:${base.s3Port}`, alive: true, self: true }],
    };
    return sendJson(res, 200, status);
  }
  if (path === '/api/v1/ring' && method === 'GET' && deps.ring) {
    const p = url.searchParams.get('path');
    return sendJson(res, 200, deps.ring(p === null ? undefined : p.startsWith('/') ? p : `/${p}`));
  }
  if (path === '/api/v1/mounts' && method === 'GET') {
    return sendJson(res, 200, { mounts: deps.objects.listBuckets().map(withoutSecrets) });
  }
  if (path === '/api/v1/mounts' && method === 'POST') {
    const body = await readJson(req);
    const mountPath = String(body.path ?? '');
    const ufsUri = String(body.ufsUri ?? '');
    if (!mountPath || !ufsUri) throw new ObjectError('InvalidArgument', 'A mount needs "path" and "ufsUri".');
    const options = (body.options ?? {}) as Record<string, string>;
    const entry = await deps.objects.addMount(mountPath, ufsUri, options, adminUser);
    return sendJson(res, 201, { mount: withoutSecrets(entry) });
  }
  if (path.startsWith('/api/v1/mounts/') && method === 'DELETE') {
    const entry = await deps.objects.removeMount(decodeURIComponent(path.slice('/api/v1/mounts/'.length)));
    return sendJson(res, 200, { removed: entry });
  }
  if (path === '/api/v1/cache' && method === 'GET') {
    const [stats, totals] = await Promise.all([deps.objects.cacheStats(), deps.render().then(cacheTotalsOf)]);
    const lookups = totals.hits + totals.misses;
    return sendJson(res, 200, { ...stats, ...totals, hitRatio: lookups ? totals.hits / lookups : 0 });
  }
  if (path === '/api/v1/cache/free' && method === 'POST') {
    const body = await readJson(req);
    return sendJson(res, 200, await deps.objects.cacheFree(String(body.path ?? '')));
  }
  if (path === '/api/v1/cache/load' && method === 'POST') {
    // Progress as JSON lines while it runs; the last line is the summary.
    const body = await readJson(req);
    const target = String(body.path ?? '');
    await deps.objects.cacheTarget(target);
    res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
    try {
      await deps.objects.cacheLoad(target, (p) => res.write(`${JSON.stringify(p)}\n`));
    } catch (e) {
      res.write(`${JSON.stringify({ phase: 'error', error: e instanceof ObjectError ? e.code : 'InternalError', message: (e as Error).message })}\n`);
    }
    res.end();
    return;
  }
  if (path === '/api/v1/conf' && method === 'GET') {
    // Secrets (the cluster secret, store keys) are shown as set or not, never their value.
    const conf = deps.config.entries().map((e) => (SECRET_KEY.test(e.key) && e.value ? { ...e, value: '***' } : e));
    return sendJson(res, 200, { conf });
  }
  sendJson(res, 404, { error: 'NotFound', message: `No admin resource ${method} ${path}` });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_JSON_BYTES) throw new ObjectError('InvalidArgument', 'Request body too large.');
    chunks.push(c);
  }
  // A signed request's body must be the one it signed (the CLI signs the SHA-256 of its body).
  const signedHash = req.headers['x-amz-content-sha256'];
  if (typeof signedHash === 'string' && /^[0-9a-fA-F]{64}$/.test(signedHash)) {
    if (createHash('sha256').update(Buffer.concat(chunks)).digest('hex') !== signedHash.toLowerCase()) {
      throw new ObjectError('InvalidArgument', "The body does not match its signed x-amz-content-sha256.");
    }
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch {
    throw new ObjectError('InvalidArgument', 'The request body is not a JSON object.');
  }
}

/** A mount as the admin API shows it: secret options (S3 keys) masked. */
function withoutSecrets<T extends { options: Record<string, string> }>(m: T): T {
  return { ...m, options: Object.fromEntries(Object.entries(m.options).map(([k, v]) => [k, /secret|password|token/i.test(k) ? '***' : v])) };
}
