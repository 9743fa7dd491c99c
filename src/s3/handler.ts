// The S3 request handler: request id, endpoint, identity, dispatch to the action, error
// rendering, access log. The action table is given by server/ (actions sit on top of s3/).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Authenticator } from './auth/authenticate.js';
import { identifySimple, type Identity } from './auth/simple.js';
import { type ActionName, type Endpoint, parseEndpoint, pathStyleTarget, refineWithHeaders } from './endpoint.js';
import { S3Error } from './errors.js';
import { type ResponseTarget, sendError } from './respond.js';

/** Everything an action needs about one request. */
export interface S3Request extends ResponseTarget {
  req: IncomingMessage;
  endpoint: Endpoint;
  identity: Identity;
  /** Filled by actions for the access log. */
  log: { bytesIn?: number; bytesOut?: number; note?: string };
  /**
   * Set when another worker of the cluster forwarded this request here (its marker verified), for
   * its proxy cache (cluster/proxyCache.ts): `heldVersion` is the version of the object it holds;
   * `wantsVersion`, that it would keep the bytes sent, under their version.
   */
  forwarded?: { heldVersion?: string; wantsVersion: boolean };
}

export type ActionHandler = (r: S3Request) => Promise<void>;

/** What the handler reports of each request once its response ended. */
export interface FinishedRequest {
  requestId: string;
  action: string;
  status: number;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
  user: string;
  bucket?: string;
  key?: string;
  /** The error answered, if any. */
  error?: { code: string; message: string };
}
export type ActionTable = Record<ActionName, ActionHandler>;

export interface HandlerOptions {
  actions: ActionTable;
  logger: Logger;
  /** Log every request (true) or only failed ones (false). */
  accessLogging: boolean;
  onlyHttps: boolean;
  /** Domains under which `<bucket>.<domain>` hosts address buckets (virtual-hosted style); empty: path style only. */
  virtualHostDomains: readonly string[];
  /** Limits that protect the worker from hostile or broken clients. */
  limits: RequestLimits;
  /** Who acts (default: SIMPLE, the user named, unchecked); throws the S3 error of a refused request. */
  authenticate?: Authenticator;
  /** Whether they may (default: everyone may do everything); throws AccessDenied. */
  authorize?: (r: S3Request) => void;
  /** Called once per finished request, for metrics and the status page. */
  onFinished?: (done: FinishedRequest) => void;
  /**
   * Cluster routing (cluster/forwarder.ts), once the endpoint is known: 'answered' (proxied to the
   * owner, or a 307), 'local' (serve here), or 'identified' (serve here as the user a redirect token
   * names). It calls `identify` itself before it issues a redirect token.
   */
  route?: (r: S3Request, identify: () => Promise<Identity>) => Promise<'answered' | 'local' | 'identified'>;
}

export interface RequestLimits {
  /** Longest request target (path and query), in bytes. */
  maxUrlLength: number;
  /** Most header fields in one request. */
  maxHeaders: number;
  /** Longest pause between two pieces of a request body (slowloris); 0 disables. */
  bodyIdleMs: number;
}

/** S3-style request ids: 16 upper-case hex characters, unique per worker process. */
const idPrefix = randomBytes(4).toString('hex').toUpperCase();
let idCounter = 0;
export function nextRequestId(): string {
  idCounter = (idCounter + 1) >>> 0;
  return idPrefix + idCounter.toString(16).toUpperCase().padStart(8, '0');
}

export function createS3Handler(opts: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = process.hrtime.bigint();
    const requestId = nextRequestId();
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', requestId);
    res.setHeader('Server', 'Strata');
    const url = req.url ?? '/';
    const r: S3Request = {
      req,
      res,
      requestId,
      resource: url.split('?')[0],
      isHead: req.method === 'HEAD',
      endpoint: { action: 'ListBuckets', bucket: '', key: '', query: {} },
      identity: { user: '-', via: 'anonymous' },
      log: {},
    };
    let failure: S3Error | undefined;
    let action = 'Unknown';
    // Held here: Node detaches req.socket once the response is done, before 'finish' handlers run.
    const socket = req.socket;
    // A client that half-closes before its body is complete gets IncompleteBody at once, rather
    // than a request left waiting for bytes that will never come.
    const onClientEnd = () => {
      if (!req.complete) req.destroy(new S3Error('IncompleteBody'));
    };
    socket.once('end', onClientEnd);
    // A client that stops sending its body for too long loses the request (RequestTimeout), also
    // while the rest of a body answered early is dropped.
    const bodyIdle = opts.limits.bodyIdleMs;
    const expectsBody = req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0' || req.headers['transfer-encoding'] !== undefined;
    const onBodyIdle = () => {
      const timedOut = new S3Error('RequestTimeout');
      // The request fails (what reads it cleans up: no file or descriptor is left behind), and the
      // connection closes; an answer not sent yet goes first, which destroying now would lose.
      const close = () => {
        req.destroy(timedOut);
        socket.destroy();
      };
      if (res.headersSent) return close();
      failure = sendError(r, timedOut);
      res.once('finish', close);
    };
    if (bodyIdle > 0 && expectsBody) watchBodyIdle(socket, bodyIdle, () => req.complete, onBodyIdle);
    res.once('finish', () => {
      if (!req.complete) dropRestOfBody(req, socket);
      finished();
    });
    res.once('close', () => {
      socket.off('end', onClientEnd);
      finished();
    });
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      opts.onFinished?.({
        requestId,
        action,
        status: res.statusCode,
        seconds,
        bytesIn: r.log.bytesIn ?? 0,
        bytesOut: res.writableFinished ? (r.log.bytesOut ?? 0) : 0,
        user: r.identity.user,
        bucket: r.endpoint.bucket || undefined,
        key: r.endpoint.key || undefined,
        error: failure ? { code: failure.code, message: failure.message } : undefined,
      });
      const aborted = !res.writableFinished;
      if (!opts.accessLogging && !failure && !aborted && res.statusCode < 400) return;
      opts.logger[failure && failure.status >= 500 ? 'error' : 'info']({
        type: 'access',
        requestId,
        user: r.identity.user,
        client: socket.remoteAddress,
        method: req.method,
        action,
        bucket: r.endpoint.bucket || undefined,
        key: r.endpoint.key || undefined,
        status: res.statusCode,
        error: failure?.code,
        errorMessage: failure && failure.status >= 500 ? failure.message : undefined,
        aborted: aborted || undefined,
        bytesIn: r.log.bytesIn,
        bytesOut: r.log.bytesOut,
        ms: Math.round(seconds * 1e4) / 10,
        note: r.log.note,
      });
    };
    (async () => {
      try {
        if (opts.onlyHttps && !(req.socket as { encrypted?: boolean }).encrypted) {
          throw new S3Error('InvalidRequest', 'This worker accepts only HTTPS requests (strata.worker.s3.only.https.access).');
        }
        if (url.length > opts.limits.maxUrlLength) {
          throw new S3Error('InvalidURI', `The request URI is longer than the ${opts.limits.maxUrlLength} bytes allowed.`);
        }
        if (req.rawHeaders.length / 2 > opts.limits.maxHeaders) {
          throw new S3Error('RequestHeaderSectionTooLarge', `The request has more than the ${opts.limits.maxHeaders} header fields allowed.`);
        }
        const target = pathStyleTarget(url, req.headers.host, opts.virtualHostDomains);
        r.endpoint = refineWithHeaders(parseEndpoint(req.method ?? 'GET', target), req.headers);
        action = r.endpoint.action;
        const identify = async (): Promise<Identity> => (opts.authenticate ? await opts.authenticate(req, r.endpoint) : identifySimple(req.headers.authorization, r.endpoint.query));
        const routed = opts.route ? await opts.route(r, identify) : 'local';
        if (routed === 'answered') return;
        // A POST form names who sends it, and the key, in its fields: its action authenticates and
        // authorizes once it has read them.
        if (r.endpoint.action !== 'PostObject') {
          if (routed === 'local') r.identity = await identify();
          opts.authorize?.(r);
        }
        await opts.actions[r.endpoint.action](r);
      } catch (e) {
        failure = sendError(r, e);
        if (failure.code === 'InternalError') opts.logger.error({ err: e, requestId }, 'internal error');
      }
    })();
  };
}

/**
 * Calls `onIdle` once the socket has read nothing for `idleMs` before `complete()`; stops when the
 * body is complete or the socket closes. Timed by the bytes the socket reads rather than by the
 * socket's timeout, which Node keeps for kept-alive connections between requests (a body timer
 * there would cancel that one, or outlive its request and cut the next).
 */
function watchBodyIdle(socket: Socket, idleMs: number, complete: () => boolean, onIdle: () => void): void {
  let seen = socket.bytesRead;
  let quietSince = Date.now();
  const timer = setInterval(() => {
    if (complete() || socket.destroyed) return clearInterval(timer);
    if (socket.bytesRead !== seen) {
      seen = socket.bytesRead;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= idleMs) {
      clearInterval(timer);
      onIdle();
    }
  }, Math.max(50, Math.floor(idleMs / 4)));
  timer.unref();
}

/**
 * A request answered before its body was read in full (an error part way through it): the rest is
 * read and dropped, as Node does with a body nobody started reading, so that the client can finish
 * sending and read the answer, and the connection stays usable; left unread, both ends would wait
 * for the request timeout. A failed pipeline destroys the request but, by design, not the socket,
 * which it leaves paused: `_dump` makes the parser drop the body, and the socket reads again.
 */
function dropRestOfBody(req: IncomingMessage, socket: Socket): void {
  req.unpipe();
  (req as IncomingMessage & { _dump(): void })._dump();
  if (!socket.destroyed) socket.resume();
}
