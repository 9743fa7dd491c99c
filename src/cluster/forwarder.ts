// Cluster routing in the S3 request path: an object request (the key on the ring is `/bucket/key`)
// that another worker owns is proxied to it (streamed both ways, pooled keep-alive connections)
// or answered with a 307 to it. Bucket-level requests are served by the receiving worker.
// A request carrying a valid forwarding marker is served here and never forwarded again.
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import { Counter, Gauge, type Registry } from 'prom-client';
import { Agent, type Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { ERROR_TABLE, S3Error, type S3ErrorCode } from '../s3/errors.js';
import type { WriteConditions } from '../objects/conditions.js';
import { sendError } from '../s3/respond.js';
import type { Identity } from '../s3/auth/simple.js';
import type { S3Request } from '../s3/handler.js';
import type { ClusterView } from './clusterView.js';
import type { Member } from './membership.js';
import { type Fill, HELD_HEADER, HELD_VERSION_HEADER, type HeldObject, heldSlice, NONE_HELD, ProxyCache, VERSION_HEADER } from './proxyCache.js';
import { FORWARD_HEADER, REDIRECT_PARAM, signForward, signRedirect, type TokenIdentity, verifyForward, verifyRedirect } from './signing.js';

export interface ForwarderOptions {
  view: ClusterView;
  secret: Buffer;
  /** true: 307 to the owner (strata.worker.s3.redirect.enabled); false: proxy. */
  redirect: boolean;
  /** Redirect mode: do not send clients to an owner membership knows to be dead. */
  redirectHealthCheck: boolean;
  /**
   * Redirect mode: the longest request target (path and query) a Location may send a client to;
   * a longer one (a token carrying many OIDC groups) is proxied instead. Default 8 KiB, what
   * clients and load balancers commonly take.
   */
  maxRedirectTarget?: number;
  connectTimeoutMs: number;
  /** Worker-to-worker HTTPS (strata.cluster.tls.enabled), with this CA bundle (PEM) when given. */
  tls?: { ca?: Buffer };
  /** Proxy mode: bytes of small objects kept here by version (strata.worker.s3.proxy.cache.*); 0 disables. */
  proxyCache?: { size: number; maxObjectSize: number };
  registry: Registry;
  logger: Logger;
  /** Called before a request is served here: reads the mount table again when it lacks the bucket. */
  beforeLocal?: (bucket: string) => Promise<void>;
}

export type Routed = 'answered' | 'local' | 'identified';

/** Hop-by-hop headers (RFC 9110 7.6.1) and the workers' own, which a client can neither send nor see. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect', FORWARD_HEADER, HELD_VERSION_HEADER, HELD_HEADER, VERSION_HEADER]);

/** Query parameters of a GetObject whose answer a held copy can give (a part is a range of it). */
const HOLDABLE_QUERY = /^(response-[a-z-]+|x-id|partNumber)$/;

export class Forwarder {
  private readonly agent: Agent;
  /** Proxied requests in flight by owner id: aborted when their owner leaves the ring (hung, not dead). */
  private readonly inFlight = new Map<string, Set<Dispatcher.DispatchController>>();
  private readonly forwarded: Counter<'mode'>;
  private readonly forwardedIn: Counter;
  private readonly proxyCache: ProxyCache;
  private readonly proxyCacheAnswers: Counter<'answer'>;

  constructor(private readonly opts: ForwarderOptions) {
    this.agent = new Agent({
      connect: { timeout: opts.connectTimeoutMs, ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}) },
      keepAliveTimeout: 30_000,
      connections: 256,
    });
    this.forwarded = new Counter({
      name: 'strata_forwarded_requests_total',
      help: 'Requests this worker sent on to the owner of the object, by mode (proxy or redirect).',
      labelNames: ['mode'] as const,
      registers: [opts.registry],
    });
    opts.view.membership.onChange(() => this.abortLeft());
    this.forwardedIn = new Counter({
      name: 'strata_forwarded_in_total',
      help: 'Requests served here for another worker that forwarded them (valid marker).',
      registers: [opts.registry],
    });
    this.proxyCache = new ProxyCache(opts.proxyCache?.size ?? 0, opts.proxyCache?.maxObjectSize ?? 0);
    this.proxyCacheAnswers = new Counter({
      name: 'strata_proxy_cache_answers_total',
      help: 'Proxied GETs by what the proxy cache did: hit (bytes sent from here, the owner checked the version), fill (kept the bytes the owner sent).',
      labelNames: ['answer'] as const,
      registers: [opts.registry],
    });
    const cache = this.proxyCache;
    new Gauge({
      name: 'strata_proxy_cache_bytes',
      help: 'Bytes of proxied objects held by this process (strata.worker.s3.proxy.cache.size).',
      registers: [opts.registry],
      collect() {
        this.set(cache.size);
      },
    });
  }

  private abortLeft(): void {
    const members = new Set(this.opts.view.membership.members().map((m) => m.id));
    for (const [id, controllers] of this.inFlight) {
      if (members.has(id) && this.opts.view.membership.isAlive(id)) continue;
      for (const c of controllers) c.abort(new Error(`the owner ${id} left the ring`));
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /**
   * Routes one request: 'answered' (proxied or redirected), 'local' (serve it here), or 'identified'
   * (serve it here as the user of a valid redirect token). A proxied request is authenticated by the
   * owner (Authorization goes along); a redirect token is issued only to an identified user.
   */
  async route(r: S3Request, identify: () => Promise<Identity>): Promise<Routed> {
    const { req, endpoint } = r;
    const method = req.method ?? 'GET';
    const marker = req.headers[FORWARD_HEADER];
    if (marker !== undefined) {
      const heldHeader = req.headers[HELD_VERSION_HEADER];
      const held = typeof heldHeader === 'string' ? heldHeader : undefined;
      // Refused rather than ignored: an unsigned marker is a misconfigured peer (another secret)
      // or a forgery, and treating it as a fresh request could bounce it between workers.
      if (typeof marker !== 'string' || !verifyForward(this.opts.secret, marker, method, req.url ?? '/', undefined, held)) {
        throw new S3Error('AccessDenied', 'The request carries an invalid cluster forwarding marker (is strata.cluster.secret the same on every worker?).');
      }
      this.forwardedIn.inc();
      r.log.note = 'forwarded-in';
      r.forwarded = { heldVersion: held === NONE_HELD ? undefined : held, wantsVersion: held !== undefined };
      await this.local(endpoint.bucket);
      return 'local';
    }
    const path = `/${endpoint.bucket}/${endpoint.key}`;
    const token = endpoint.query[REDIRECT_PARAM];
    if (token !== undefined) {
      const who = verifyRedirect(this.opts.secret, token, method, path);
      if (!who) throw new S3Error('AccessDenied', 'The redirect token is invalid or expired; send the request again to any worker.');
      delete endpoint.query[REDIRECT_PARAM];
      r.identity = { ...who, via: 'redirect-token' };
      await this.local(endpoint.bucket);
      return 'identified';
    }
    const { view } = this.opts;
    if (endpoint.key === '' || !view.clustered) {
      await this.local(endpoint.bucket);
      return 'local';
    }
    // Proxying always follows liveness (the proxy would fail on a dead owner); redirecting does
    // when the health check is on.
    const target = view.serverOf(path, !this.opts.redirect || this.opts.redirectHealthCheck);
    if (!target || view.isSelf(target)) {
      await this.local(endpoint.bucket);
      return 'local';
    }
    if (this.opts.redirect) {
      r.identity = await identify();
      if (this.redirectTo(r, target, path)) return 'answered';
    }
    await this.proxyTo(r, target);
    return 'answered';
  }

  /** True when another worker serves `/bucket/key` now (ClusterPeers, for DeleteObjects). */
  ownedElsewhere(bucket: string, key: string): boolean {
    const { view } = this.opts;
    if (!view.clustered) return false;
    const target = view.serverOf(`/${bucket}/${key}`, true);
    return target !== undefined && !view.isSelf(target);
  }

  /**
   * DeleteObject on the worker that serves the key, as `who`: a redirect token says who (the owner
   * trusts it as it trusts a followed 307), the conditions go as DeleteObject's headers.
   */
  async deleteOnOwner(bucket: string, key: string, who: TokenIdentity, conditions: WriteConditions): Promise<void> {
    const headers: Record<string, string> = {};
    if (conditions.ifMatch !== undefined) headers['if-match'] = conditions.ifMatch;
    if (conditions.ifMatchLastModified) headers['x-amz-if-match-last-modified-time'] = conditions.ifMatchLastModified.toUTCString();
    if (conditions.ifMatchSize !== undefined) headers['x-amz-if-match-size'] = String(conditions.ifMatchSize);
    await this.requestOnOwner('DELETE', bucket, key, who, headers);
  }

  /**
   * PutObject on the worker that serves the key, as `who`, with the body streamed (chunked) and the
   * object's headers; returns the ETag it answered. A failing body fails the request with its error.
   */
  async putOnOwner(bucket: string, key: string, who: TokenIdentity, headers: Record<string, string>, body: Readable): Promise<string> {
    let bodyFailure: unknown;
    body.once('error', (e) => (bodyFailure = e));
    try {
      const answer = await this.requestOnOwner('PUT', bucket, key, who, headers, body);
      if (!answer.headers.etag) throw new S3Error('InternalError', 'The owner of the key stored it but sent no ETag.');
      return answer.headers.etag;
    } catch (e) {
      throw bodyFailure ?? e;
    }
  }

  /** One request to the key's owner under a redirect token; its S3 error is thrown as ours. */
  private async requestOnOwner(method: string, bucket: string, key: string, who: TokenIdentity, headers: Record<string, string>, body?: Readable): Promise<{ headers: Record<string, string> }> {
    const path = `/${bucket}/${key}`;
    const target = this.opts.view.serverOf(path, true);
    if (!target) throw new S3Error('SlowDown', 'No worker serves this key now; retry shortly.');
    const tls = this.opts.tls !== undefined;
    const origin = tls ? `https://${target.httpsAddress ?? target.address}` : `http://${target.address}`;
    const token = signRedirect(this.opts.secret, method, path, who);
    this.forwarded.inc({ mode: 'proxy' });
    let answer: Dispatcher.ResponseData;
    try {
      answer = await this.agent.request({
        origin, method, headers, body,
        path: `/${encodeS3Path(bucket)}/${encodeS3Path(key)}?${REDIRECT_PARAM}=${encodeURIComponent(token)}`,
      });
    } catch (e) {
      this.opts.logger.warn({ err: (e as Error).message, owner: target.id, method }, 'a request to the owner failed');
      throw new S3Error('SlowDown', `The worker that owns this object (${target.address}) cannot be reached now; retry shortly.`);
    }
    const text = await answer.body.text();
    const answered = Object.fromEntries(Object.entries(answer.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
    if (answer.statusCode < 300) return { headers: answered };
    const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? '';
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
    throw new S3Error(Object.hasOwn(ERROR_TABLE, code) ? (code as S3ErrorCode) : 'InternalError', message);
  }

  private async local(bucket: string): Promise<void> {
    if (bucket) await this.opts.beforeLocal?.(bucket);
  }

  /** Answers a 307 to the owner; false (nothing sent) when its Location would be too long to follow. */
  private redirectTo(r: S3Request, target: Member, path: string): boolean {
    const secure = (r.req.socket as TLSSocket).encrypted === true && target.httpsAddress !== undefined;
    const address = secure ? target.httpsAddress! : target.address;
    // Path style, so that the owner's Host (an address) still names the bucket.
    const original = r.req.url ?? '/';
    const q = original.indexOf('?');
    const pathPart = `/${encodeS3Path(r.endpoint.bucket)}/${encodeS3Path(r.endpoint.key)}`;
    const query = q < 0 ? '' : original.slice(q + 1);
    const token = signRedirect(this.opts.secret, r.req.method ?? 'GET', path, r.identity);
    const targetPart = `${pathPart}?${query ? `${query}&` : ''}${REDIRECT_PARAM}=${encodeURIComponent(token)}`;
    if (targetPart.length > (this.opts.maxRedirectTarget ?? 8192)) {
      this.opts.logger.debug({ owner: target.id, length: targetPart.length }, 'redirect target too long: proxied instead');
      return false;
    }
    const location = `${secure ? 'https' : 'http'}://${address}${targetPart}`;
    this.forwarded.inc({ mode: 'redirect' });
    r.log.note = `redirect ${target.id}`;
    // Sent here rather than thrown: a redirect is an answer, not a failure to log.
    sendError(r, new S3Error('TemporaryRedirect', `Please re-send this request to the worker that owns the object: ${address}.`, {
      fields: { Endpoint: address, Bucket: r.endpoint.bucket },
      headers: { Location: location },
    }));
    return true;
  }

  private track(id: string, c: Dispatcher.DispatchController): void {
    let set = this.inFlight.get(id);
    if (!set) this.inFlight.set(id, (set = new Set()));
    set.add(c);
  }

  private untrack(id: string, c: Dispatcher.DispatchController): void {
    const set = this.inFlight.get(id);
    if (!set) return;
    set.delete(c);
    if (set.size === 0) this.inFlight.delete(id);
  }

  /**
   * Streams the request to the owner and its answer back through undici's dispatch handler: each
   * chunk of the answer is written to the client as it arrives, and the owner's connection is paused
   * while the client's socket is full (no intermediate stream: a proxied byte costs one copy).
   * A GET of an object the proxy cache holds asks the owner for the headers alone when that version
   * is still current, and sends the bytes from here; a whole small object the owner sends is kept.
   */
  private proxyTo(r: S3Request, target: Member, mayHold = true): Promise<void> {
    const { req, res } = r;
    const tls = this.opts.tls !== undefined;
    const origin = tls ? `https://${target.httpsAddress ?? target.address}` : `http://${target.address}`;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
    const path = `/${r.endpoint.bucket}/${r.endpoint.key}`;
    const holdable = this.proxyCache.enabled && !hasBody && method === 'GET' && r.endpoint.action === 'GetObject' && Object.keys(r.endpoint.query).every((q) => HOLDABLE_QUERY.test(q));
    const held = holdable && mayHold ? this.proxyCache.get(path) : undefined;
    const heldVersion = holdable ? (held?.version ?? NONE_HELD) : undefined;
    const headers = forwardHeaders(req.rawHeaders, req.headers);
    headers.push(FORWARD_HEADER, signForward(this.opts.secret, method, url, undefined, heldVersion));
    if (heldVersion !== undefined) headers.push(HELD_VERSION_HEADER, heldVersion);
    // undici sends async iterables (its types list only streams).
    const body = hasBody ? (chunksOf(req) as unknown as Readable) : undefined;
    this.forwarded.inc({ mode: 'proxy' });
    r.log.note = `proxy ${target.id}`;
    return new Promise<void>((resolve, reject) => {
      let controller: Dispatcher.DispatchController | undefined;
      let started = false;
      /** The whole object being kept as it passes, when it may be. */
      let fill: Fill | undefined;
      /** The owner said the held copy is current, but it does not fit the answer: ask again for the bytes. */
      let askAgain = false;
      const onDrain = () => controller?.resume();
      const onClose = () => {
        if (!res.writableFinished) controller?.abort(new Error('the client went away'));
      };
      const done = () => {
        res.off('drain', onDrain);
        res.off('close', onClose);
        if (controller) this.untrack(target.id, controller);
      };
      res.on('close', onClose);
      res.on('drain', onDrain);
      this.agent.dispatch({ origin, path: url, method, headers, body }, {
        onRequestStart: (c) => {
          controller = c;
          this.track(target.id, c);
          if (res.destroyed) c.abort(new Error('the client went away'));
        },
        onResponseStart: (_c, status, answer) => {
          if (status < 200) return;
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(answer)) if (v !== undefined && !HOP.has(k)) out[k] = v;
          if (answer[HELD_HEADER] !== undefined) {
            const bytes = held && heldBytes(held, status, answer);
            if (!bytes) {
              askAgain = true;
              return;
            }
            started = true;
            this.proxyCacheAnswers.inc({ answer: 'hit' });
            r.log.note = `proxy ${target.id}, bytes held here`;
            res.writeHead(status, { ...out, 'content-length': String(bytes.length) });
            res.end(bytes);
            return;
          }
          started = true;
          // Gone at the owner: the copy will not be asked for again.
          if (held && status === 404) this.proxyCache.deleteIf(path, held);
          const length = Number(answer['content-length']);
          const version = answer[VERSION_HEADER];
          if (holdable && status === 200 && typeof version === 'string' && req.headers.range === undefined) {
            fill = this.proxyCache.startFill(path, version, length);
          }
          res.writeHead(status, out);
        },
        onResponseData: (c, chunk) => {
          if (res.writableEnded) return;
          fill?.add(chunk);
          if (!res.write(chunk)) c.pause();
        },
        onResponseEnd: () => {
          done();
          if (askAgain) {
            if (!held) {
              reject(new Error(`the owner ${target.id} left out a body this worker does not hold`));
              return;
            }
            this.proxyCache.deleteIf(path, held);
            resolve(this.proxyTo(r, target, false));
            return;
          }
          if (fill?.finish()) this.proxyCacheAnswers.inc({ answer: 'fill' });
          if (!res.writableEnded) res.end();
          resolve();
        },
        onResponseError: (_c, e) => {
          done();
          fill?.abandon();
          if (res.writableEnded) {
            // Sent whole from the held copy; what the owner's connection does next does not matter.
            resolve();
            return;
          }
          if (started || res.destroyed) {
            // The client or the owner went away mid-answer: nothing more can be said.
            res.destroy();
            resolve();
            return;
          }
          this.opts.logger.warn({ err: e.message, owner: target.id, requestId: r.requestId }, 'forwarding to the owner failed');
          reject(new S3Error('SlowDown', `The worker that owns this object (${target.address}) cannot be reached now; retry shortly.`, { headers: { 'Retry-After': '1' } }));
        },
      });
    });
  }
}

/** The bytes of the held copy an answer without body stands for (its length and Content-Range checked). */
function heldBytes(held: HeldObject, status: number, answer: Record<string, string | string[] | undefined>): Buffer | undefined {
  const length = Number(answer[HELD_HEADER]);
  const range = answer['content-range'];
  return heldSlice(held, status, typeof range === 'string' ? range : undefined, length);
}

/**
 * The request body as an async iterable: undici destroys a stream body it has sent, and destroying
 * an IncomingMessage closes the client's connection (kept alive for its next request).
 */
async function* chunksOf(req: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of req) yield chunk;
}

/** The client's headers as a flat list (order, case and duplicates kept), hop-by-hop ones removed. */
function forwardHeaders(raw: string[], parsed: IncomingHttpHeaders): string[] {
  const named = new Set((String(parsed.connection ?? '')).toLowerCase().split(',').map((s) => s.trim()).filter(Boolean));
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (HOP.has(name) || named.has(name)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}

/** A key or bucket in a URL path: every byte but unreserved ones and '/' percent-encoded. */
export function encodeS3Path(s: string): string {
  return encodeURIComponent(s).replace(/%2F/g, '/').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
