// Worker process wiring: configuration -> services -> listeners, and a graceful drain on SIGTERM.
//
// A worker runs `strata.worker.s3.event.loops` processes (node:cluster) so that S3 traffic uses
// more than one core: with one, a single process does everything; with more, the primary keeps
// the admin server, the mount table's writes from the admin API and the multipart cleaner, and
// the children serve S3 on the shared port. Children announce changes to shared state through
// the primary (processGroup.ts) before acknowledging them.
import cluster from 'node:cluster';
import { promises as fsp } from 'node:fs';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { AggregatorRegistry, Registry } from 'prom-client';
import { buildActionTable } from '../actions/index.js';
import { PageCache } from '../cache/pageCache.js';
import { pageCacheSettings } from './cacheSettings.js';
import { ClusterRuntime } from '../cluster/runtime.js';
import type { ClusterPeers, S3Settings } from '../actions/shared/services.js';
import { createAdminServer } from '../metrics/adminServer.js';
import { Metrics } from '../metrics/metrics.js';
import { failureOf, type FailureEntry, RecentErrors, StatusHistory } from '../metrics/status.js';
import { MountTable } from '../namespace/mountTable.js';
import { MultipartService } from '../objects/multipart.js';
import { ObjectService } from '../objects/objectService.js';
import { ALONE, type Change, type Siblings } from '../objects/siblings.js';
import { type Identity, workerUser } from '../s3/auth/simple.js';
import { S3Error } from '../s3/errors.js';
import { createS3Handler, nextRequestId, type S3Request } from '../s3/handler.js';
import { errorDocument } from '../s3/respond.js';
import type { Config } from './config.js';
import { lookupKey } from './configSchema.js';
import { S3_OPTION_DEFAULTS } from '../ufs/s3/s3Options.js';
import { type OidcSetup, oidcSetup } from './oidcSetup.js';
import { ChildSiblings, PrimarySiblings } from './processGroup.js';
import { adminCheckOf, type Security, securityOf } from './security.js';

export interface WorkerOptions {
  /** The embedded default: CreateBucket under `<work dir>/buckets`, and a bucket `data` when none exists. */
  embedded?: boolean;
  logger?: Logger;
}

export const EMBEDDED_BUCKET = 'data';

type Role = 'single' | 'primary' | 'child';

/** How many S3-serving processes: the configured number, or one per core when 0. */
export function eventLoops(config: Config): number {
  const n = config.int('strata.worker.s3.event.loops');
  return n > 0 ? n : availableParallelism();
}

export class Worker {
  private ready = false;
  private stopping = false;
  history?: StatusHistory;
  /** Membership, ring, forwarding (cluster/runtime.ts). */
  clusterRuntime?: ClusterRuntime;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly role: Role,
    readonly config: Config,
    readonly logger: Logger,
    readonly objects: ObjectService,
    readonly multipart: MultipartService,
    readonly s3Listeners: S3Listener[],
    readonly adminServer: Server | undefined,
  ) {}

  /**
   * SIGHUP: reads the certificate and key again; new TLS connections get them, open ones go on.
   * The primary passes the signal to its S3 processes.
   */
  reloadTls(): void {
    for (const l of this.s3Listeners) {
      if (!l.tls) continue;
      try {
        (l.server as HttpsServer).setSecureContext(readTls(l.tls));
        this.logger.info({ cert: l.tls.cert }, 'TLS certificate reloaded');
      } catch (e) {
        this.logger.error({ err: e, cert: l.tls.cert }, 'TLS certificate not reloaded; the previous one stays in use');
      }
    }
    if (this.role === 'primary') for (const child of Object.values(cluster.workers ?? {})) child?.process.kill('SIGHUP');
  }

  static async start(config: Config, opts: WorkerOptions = {}): Promise<Worker> {
    const role: Role = cluster.isWorker ? 'child' : eventLoops(config) > 1 ? 'primary' : 'single';
    const logger = opts.logger ?? createLogger(config, role);
    const workDir = config.path('strata.work.dir');
    let rootUfs = config.path('strata.root.ufs');
    if (!rootUfs && opts.embedded) rootUfs = join(workDir, 'buckets');
    if (role !== 'child') {
      await fsp.mkdir(workDir, { recursive: true });
      if (rootUfs) await fsp.mkdir(rootUfs, { recursive: true });
    }

    // The mount table is a file in STATIC mode and lives in etcd in ETCD mode.
    const clusterRuntime = new ClusterRuntime(config, logger);
    const mounts = new MountTable(clusterRuntime.mountStore);
    await mounts.load();
    let siblings: Siblings = ALONE;
    let objects: ObjectService | undefined;
    // A change another process announced that cannot be applied here (a mount table that fails
    // to load) is logged; it must not end the process as an unhandled rejection.
    const applyChange = (change: Change) =>
      objects!.applyChange(change).catch((e: unknown) => logger.error({ err: e, change: change.kind }, 'could not apply a change announced by another S3 process'));
    if (role === 'child') siblings = new ChildSiblings(applyChange);
    if (role === 'primary') siblings = new PrimarySiblings(applyChange);
    const metrics = new Metrics();
    // The page cache: one per worker; the primary (or the single process) owns its index. The
    // primary's index gauges are shown beside the children's sums; its own counters (cache load)
    // are not, like the rest of its registry.
    const cacheSettings = pageCacheSettings(config);
    const indexRegistry = role === 'primary' ? new Registry() : metrics.registry;
    const countersRegistry = role === 'primary' ? new Registry() : metrics.registry;
    const cache = cacheSettings.enabled ? await PageCache.open(cacheSettings, role, countersRegistry, indexRegistry, logger) : undefined;
    if (cache && !cacheSettings.asyncRestore) await cache.restore();
    objects = new ObjectService(mounts, {
      cache,
      rootUfs,
      fsync: config.bool('strata.underfs.local.fsync.enabled'),
      workDir,
      s3Defaults: s3MountDefaults(config),
      siblings,
      observeUfs: (mount, op, seconds, ok) => metrics.observeUfs(mount, op, seconds, ok),
    });
    await clusterRuntime.start({
      register: role !== 'child',
      servesS3: role !== 'primary',
      mounts,
      registry: metrics.registry,
      onRing: (n) => metrics.ringMembers.set(n),
    });
    if (opts.embedded && role !== 'child' && mounts.list().length === 0) {
      // In a cluster another worker starting at the same time may have made it first.
      await objects.createBucket(EMBEDDED_BUCKET, workerUser()).catch(async (e) => {
        if ((e as { code?: string }).code !== 'BucketAlreadyExists') throw e;
        await mounts.reload();
      });
    }

    const multipart = new MultipartService(objects, {
      minPartSize: config.bytes('strata.worker.s3.multipart.min.part.size'),
      uploadTimeoutMs: config.durationMs('strata.worker.s3.multipart.upload.timeout'),
    });
    if (role !== 'child') multipart.startCleaner(logger);

    if (role === 'child') {
      // Constructing one installs prom-client's answer to the primary's requests for metrics.
      new AggregatorRegistry();
      AggregatorRegistry.setRegistries([metrics.registry]);
    }
    // Failed requests for the status page: kept here, or sent to the primary that serves the page.
    const recentErrors = new RecentErrors();
    const reportFailure = role === 'child'
      ? (e: FailureEntry) => process.send?.({ strata: 'failure', entry: e })
      : (e: FailureEntry) => recentErrors.add(e);
    if (role === 'primary') {
      cluster.on('message', (_w, m: { strata?: string; entry?: FailureEntry }) => {
        if (m?.strata === 'failure' && m.entry) recentErrors.add(m.entry);
      });
    }
    const security = securityOf(config, logger);
    // OIDC: Bearer tokens and STS in front of the SigV4 verifier, whose chain learns the temporary
    // credentials. Made in every process (the primary too: it makes the cluster secret file before forking).
    const oidc = await oidcSetup(config, workDir, security.authenticate, clusterRuntime.secret);
    if (oidc) {
      security.credentials.add(oidc.sts.credentials);
      security.authenticate = oidc.authenticate;
    }
    const forwarder = clusterRuntime.forwarder;
    const route = forwarder ? (r: S3Request, identify: () => Promise<Identity>) => forwarder.route(r, identify) : undefined;
    const s3Listeners = role === 'primary' ? [] : createS3Listeners(config, logger, objects, multipart, metrics, reportFailure, security, oidc, route, forwarder);

    let worker: Worker | undefined;
    const aggregator = role === 'primary' ? new AggregatorRegistry() : undefined;
    const render = aggregator
      ? async () => `${await aggregator.clusterMetrics()}\n${await indexRegistry.metrics()}`
      : () => metrics.render();
    const history = role === 'child' ? undefined : new StatusHistory(render, config.durationMs('strata.worker.status.sample.interval'));
    const started = new Date();
    const adminServer = role === 'child' ? undefined : createAdminServer({
      objects,
      config,
      render,
      contentType: metrics.contentType,
      isReady: () => worker?.ready ?? false,
      adminUser: workerUser(),
      checkAdmin: adminCheckOf(security, logger),
      ring: (path) => clusterRuntime.view!.describe(path),
      status: () => ({
        startedAt: started.toISOString(),
        pid: process.pid,
        eventLoops: role === 'primary' ? eventLoops(config) : 1,
        s3Port: config.int('strata.worker.rest.port'),
        webPort: worker?.webPort ?? 0,
        hostname: config.string('strata.worker.hostname') || '127.0.0.1',
        history: history!.list(),
        recentErrors: recentErrors.list(),
      }),
    });
    worker = new Worker(role, config, logger, objects, multipart, s3Listeners, adminServer);
    worker.clusterRuntime = clusterRuntime;
    const host = config.string('strata.worker.bind.host');
    for (const { server, port } of s3Listeners) {
      server.on('connection', (s: Socket) => {
        worker!.sockets.add(s);
        s.once('close', () => worker!.sockets.delete(s));
      });
      if (config.bool('strata.worker.s3.api.enabled')) await listen(server, port, host);
    }
    if (adminServer) await listen(adminServer, config.int('strata.worker.web.port'), host);
    if (role === 'primary') await worker.forkChildren(eventLoops(config));
    if (role !== 'child') await clusterRuntime.join();
    history?.start();
    worker.history = history;
    worker.ready = true;
    // Readiness does not wait for the cache's restore: it runs while the worker serves.
    if (cache && cacheSettings.asyncRestore) void cache.restore();
    if (role !== 'child') {
      logger.info({
        s3Port: config.int('strata.worker.rest.port'), webPort: worker.webPort, eventLoops: role === 'primary' ? eventLoops(config) : 1,
        workDir, rootUfs: rootUfs || undefined, buckets: mounts.list().map((m) => m.bucket),
      }, 'worker started');
    }
    return worker;
  }

  /** Forks the S3-serving children and waits until each listens; a child that dies is replaced. */
  private async forkChildren(n: number): Promise<void> {
    const forkOne = () =>
      new Promise<void>((resolve, reject) => {
        const child = cluster.fork();
        child.once('listening', () => resolve());
        child.once('exit', (code) => reject(new Error(`an S3 process exited while starting (code ${code})`)));
      });
    cluster.on('exit', (child, code, signal) => {
      if (this.stopping) return;
      this.logger.error({ childPid: child.process.pid, code, signal }, 'an S3 process died; starting another');
      forkOne().catch((e) => this.logger.error({ err: e }, 'could not replace an S3 process'));
    });
    await Promise.all(Array.from({ length: n }, forkOne));
  }

  get webPort(): number {
    return (this.adminServer?.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Stops accepting, lets requests in flight finish (up to `graceMs`), then closes. */
  async stop(graceMs = 10_000): Promise<void> {
    this.ready = false;
    this.stopping = true;
    if (this.role !== 'child') await this.clusterRuntime?.leave();
    const children = this.role === 'primary' ? stopChildren(graceMs) : Promise.resolve();
    const servers = [...this.s3Listeners.map((l) => l.server), this.adminServer].filter((s): s is Server => s !== undefined);
    const closed = Promise.all(servers.map(closeServer));
    for (const l of this.s3Listeners) l.server.closeIdleConnections();
    const timer = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
      this.adminServer?.closeAllConnections();
    }, graceMs);
    timer.unref();
    await Promise.all([closed, children]);
    clearTimeout(timer);
    this.multipart.stopCleaner();
    this.history?.stop();
    await this.objects.close();
    await this.clusterRuntime?.stop();
    if (this.role !== 'child') this.logger.info('worker stopped');
  }
}

/** Structured JSON logs; readable ones (pino-pretty) when a person watches the terminal. */
function createLogger(config: Config, role: Role): Logger {
  const options = { level: config.string('strata.log.level'), base: { pid: process.pid, role } };
  if (!process.stdout.isTTY) return pino(options);
  return pino(options, pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname' } }));
}

/** The certificate and key files of the HTTPS listener, or undefined when HTTPS is not configured. */
function tlsFiles(config: Config): { cert: string; key: string } | undefined {
  const cert = config.path('strata.security.tls.cert.file');
  const key = config.path('strata.security.tls.key.file');
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new Error('HTTPS needs both strata.security.tls.cert.file and strata.security.tls.key.file');
  return { cert, key };
}

function readTls(files: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  return { cert: readFileSync(files.cert), key: readFileSync(files.key) };
}

interface S3Listener {
  server: Server;
  port: number;
  /** HTTPS: where its certificate comes from (re-read on SIGHUP). */
  tls?: { cert: string; key: string };
}

/** The S3 listeners: HTTP on strata.worker.rest.port, and HTTPS on ...https.port when a certificate is configured. */
function createS3Listeners(
  config: Config,
  logger: Logger,
  objects: ObjectService,
  multipart: MultipartService,
  metrics: Metrics,
  reportFailure: (e: FailureEntry) => void,
  security: Security,
  oidc?: OidcSetup,
  route?: (r: S3Request, identify: () => Promise<Identity>) => Promise<'answered' | 'local' | 'identified'>,
  cluster?: ClusterPeers,
): S3Listener[] {
  const settings: S3Settings = {
    maxMetadataBytes: config.bytes('strata.worker.s3.header.metadata.max.size'),
    taggingRestrictions: config.bool('strata.worker.s3.tagging.restrictions.enabled'),
    metadataChangeEnabled: config.bool('strata.underfs.xattr.change.enabled'),
    region: config.string('strata.worker.s3.region'),
    maxXmlBytes: 4 * 1024 * 1024,
  };
  const handler = createS3Handler({
    actions: buildActionTable({ objects, multipart, settings, sts: oidc?.sts, cluster, forms: { authenticate: security.authenticateForm, authorize: security.authorize } }),
    logger,
    accessLogging: config.bool('strata.worker.s3.access.logging.enabled'),
    onlyHttps: config.bool('strata.worker.s3.only.https.access'),
    virtualHostDomains: config.list('strata.worker.s3.virtual.host.domains'),
    authenticate: security.authenticate,
    authorize: security.authorize,
    limits: {
      maxUrlLength: config.bytes('strata.worker.s3.max.url.length'),
      maxHeaders: config.int('strata.worker.s3.max.headers.count'),
      bodyIdleMs: config.durationMs('strata.worker.s3.body.idle.timeout'),
    },
    route,
    onFinished: (done) => {
      metrics.observe(done.action, done.status, done.seconds, done.bytesIn, done.bytesOut);
      const failure = failureOf(done);
      if (failure) reportFailure(failure);
    },
  });
  const keepAlive = config.bool('strata.worker.s3.connection.keep.alive.enabled');
  const listener = keepAlive
    ? handler
    : (req: IncomingMessage, res: ServerResponse) => {
        res.shouldKeepAlive = false;
        handler(req, res);
      };
  const options = {
    maxHeaderSize: config.bytes('strata.worker.s3.max.header.size'),
    requestTimeout: config.durationMs('strata.worker.s3.request.timeout'),
    headersTimeout: config.durationMs('strata.worker.s3.headers.timeout'),
    keepAlive: true,
    noDelay: true,
  };
  const listeners: S3Listener[] = [{ server: createServer(options, listener), port: config.int('strata.worker.rest.port') }];
  const tls = tlsFiles(config);
  // allowHalfOpen: the TLS socket must outlive the client's FIN for httpAllowHalfOpen (below) to
  // matter; plain HTTP servers are made so already.
  if (tls) listeners.push({ server: createHttpsServer({ ...options, ...readTls(tls), allowHalfOpen: true }, listener), port: config.int('strata.worker.s3.https.port'), tls });
  const maxConnections = config.int('strata.worker.s3.max.connections');
  let open = 0;
  for (const { server } of listeners) {
    // 0 = idle connections are never closed by the worker (the spec's default).
    server.keepAliveTimeout = config.durationMs('strata.worker.s3.connection.idle.max.time');
    // One more than the limit, so that a request with too many fields is seen and refused, not cut.
    server.maxHeadersCount = config.int('strata.worker.s3.max.headers.count') + 1;
    // A client that sends its whole request and then shuts its side (FIN) still gets the answer;
    // Node's default would drop the request unanswered. One whose body is cut short that way gets
    // IncompleteBody (s3/handler.ts). (Node's own switch for this, long-standing but untyped.)
    (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
    server.on('connection', (socket: Socket) => {
      open++;
      socket.once('close', () => open--);
      if (maxConnections > 0 && open > maxConnections) refuseConnection(socket);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket));
    // An Expect other than 100-continue is ignored and the request served, as S3 does (Node's
    // default would be 417).
    server.on('checkExpectation', listener);
    // TLS servers report accepted sockets as 'secureConnection'; 'connection' counts both kinds.
    server.on('connection', (socket: Socket) => {
      metrics.connections.inc();
      socket.once('close', () => metrics.connections.dec());
    });
  }
  return listeners;
}

/** Asks every child to drain and waits for them to exit (killing stragglers after the grace time). */
async function stopChildren(graceMs: number): Promise<void> {
  const children = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
  await Promise.all(children.map((child) => new Promise<void>((resolve) => {
    if (child!.isDead()) return resolve();
    const kill = setTimeout(() => child!.process.kill('SIGKILL'), graceMs + 2000);
    child!.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child!.process.kill('SIGTERM');
  })));
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** A connection over strata.worker.s3.max.connections: 503 SlowDown, then closed. */
function refuseConnection(socket: Socket): void {
  const requestId = nextRequestId();
  const xml = errorDocument(new S3Error('SlowDown', 'Too many connections to this worker; reduce your request rate.'), '', requestId);
  socket.end(`HTTP/1.1 503 Service Unavailable\r\nx-amz-request-id: ${requestId}\r\nx-amz-id-2: ${requestId}\r\nRetry-After: 1\r\nContent-Type: application/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\nConnection: close\r\n\r\n${xml}`);
}

/**
 * Errors Node's HTTP parser meets before a request exists (no response object to render on),
 * answered with the same S3 error document when the socket still takes them.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  let e: S3Error;
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      e = new S3Error('RequestHeaderSectionTooLarge', 'Your request header section exceeds the maximum allowed size.');
      break;
    case 'HPE_INVALID_EOF_STATE':
      // The client closed its side before the body announced by Content-Length arrived.
      e = new S3Error('IncompleteBody');
      break;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      e = new S3Error('RequestTimeout');
      break;
    default:
      e = new S3Error('InvalidRequest', `The request could not be parsed (${err.code ?? 'bad request'}).`);
  }
  const status = e.status;
  const requestId = nextRequestId();
  const xml = errorDocument(e, '', requestId);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nx-amz-request-id: ${requestId}\r\nx-amz-id-2: ${requestId}\r\nContent-Type: application/xml\r\n` +
      `Content-Length: ${Buffer.byteLength(xml)}\r\nConnection: close\r\n\r\n${xml}`,
  );
}

/** The strata.underfs.s3.* configuration: defaults of every S3 mount's options of the same names. */
function s3MountDefaults(config: Config): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(S3_OPTION_DEFAULTS)) if (lookupKey(`strata.${name}`)) out[name] = config.raw(`strata.${name}`);
  return out;
}
