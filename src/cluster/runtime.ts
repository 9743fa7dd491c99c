// The cluster runtime of one worker process: membership (STATIC | ETCD), the hash ring view, the
// cluster secret, the mount table's store in ETCD mode, and the forwarder of S3 requests.
//
// Every process keeps its own view: in ETCD mode the primary (or the single process) registers the
// worker and every process watches etcd itself, so all of them see a change at once without a
// relay; in STATIC mode every process reads the same list and probes the same peers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { EtcdMountStore } from '../namespace/etcdMountStore.js';
import { FileMountStore, type MountStore, type MountTable } from '../namespace/mountTable.js';
import { loadClusterSecret } from '../server/clusterSecret.js';
import type { Config } from '../server/config.js';
import { ClusterView } from './clusterView.js';
import { createEtcdClient, etcdClusterSecret } from './etcd.js';
import { EtcdMembership } from './etcdMembership.js';
import { Forwarder } from './forwarder.js';
import { type Member, type Membership, StaticMembership } from './membership.js';
import { ringOptionsFrom } from './ring.js';

export interface ClusterStartOptions {
  /** Registers the worker in etcd (the primary or the single process). */
  register: boolean;
  /** Serves S3: needs the forwarder. */
  servesS3: boolean;
  mounts: MountTable;
  registry: Registry;
  /** Told the number of ring members after each rebuild (metrics). */
  onRing?: (members: number) => void;
}

/** This worker's address for others: strata.worker.hostname (default 127.0.0.1) + its S3 ports. */
export function selfMember(config: Config): Member {
  const host = config.string('strata.worker.hostname') || '127.0.0.1';
  const address = `${host}:${config.int('strata.worker.rest.port')}`;
  const https = config.path('strata.security.tls.cert.file') ? `${host}:${config.int('strata.worker.s3.https.port')}` : undefined;
  return { id: address, address, ...(https ? { httpsAddress: https } : {}) };
}

export class ClusterRuntime {
  readonly etcd?: Etcd3;
  readonly mountStore: MountStore;
  membership?: Membership;
  view?: ClusterView;
  forwarder?: Forwarder;
  secret?: Buffer;

  /** The etcd client and the mount table's store; membership starts later (start()). */
  constructor(readonly config: Config, private readonly logger: Logger) {
    const etcdMode = config.string('strata.worker.membership.manager.type') === 'ETCD';
    if (etcdMode) this.etcd = createEtcdClient(config.list('strata.etcd.endpoints'));
    this.mountStore = this.etcd ? new EtcdMountStore(this.etcd) : new FileMountStore(join(config.path('strata.work.dir'), 'mounts.json'));
  }

  async start(opts: ClusterStartOptions): Promise<void> {
    try {
      await this.startParts(opts);
    } catch (e) {
      if (!this.etcd) throw e;
      await this.stop();
      throw new Error(`cannot start the cluster membership with etcd at ${this.config.list('strata.etcd.endpoints').join(', ')}: ${(e as Error).message}`);
    }
  }

  private async startParts(opts: ClusterStartOptions): Promise<void> {
    const { config } = this;
    if (this.mountStore instanceof EtcdMountStore) {
      await this.mountStore.watch(() => void opts.mounts.reload().catch((e) => this.logger.warn({ err: e }, 'etcd: reloading the mount table failed')));
    }
    const configured = config.string('strata.cluster.secret');
    this.secret = !configured && this.etcd ? await etcdClusterSecret(this.etcd) : await loadClusterSecret(configured, config.path('strata.work.dir'));
    const self = selfMember(config);
    if (!config.string('strata.worker.hostname') && (this.etcd || config.list('strata.worker.membership.static.workers').length > 0)) {
      this.logger.warn({ address: self.address }, 'strata.worker.hostname is not set: other workers and redirected clients reach this worker at 127.0.0.1, which works on one machine only');
    }
    const detectionTimeoutMs = config.durationMs('strata.worker.failure.detection.timeout');
    this.membership = this.etcd
      ? new EtcdMembership({ client: this.etcd, self, register: opts.register, detectionTimeoutMs, logger: this.logger })
      : new StaticMembership({
          self,
          workers: config.list('strata.worker.membership.static.workers'),
          detectionTimeoutMs,
          probeIntervalMs: Math.max(250, Math.min(2000, detectionTimeoutMs / 4)),
        });
    await this.membership.start();
    this.view = new ClusterView(this.membership, ringOptionsFrom(config), (ring) => opts.onRing?.(ring.members.length));
    if (opts.servesS3) {
      const tlsEnabled = config.bool('strata.cluster.tls.enabled');
      const caFile = config.path('strata.cluster.tls.ca.file');
      this.forwarder = new Forwarder({
        view: this.view,
        secret: this.secret,
        redirect: config.bool('strata.worker.s3.redirect.enabled'),
        redirectHealthCheck: config.bool('strata.worker.s3.redirect.health.check.enabled'),
        maxRedirectTarget: Math.min(8192, config.bytes('strata.worker.s3.max.url.length')),
        connectTimeoutMs: config.durationMs('strata.worker.s3.forward.connect.timeout'),
        proxyCache: { size: config.bytes('strata.worker.s3.proxy.cache.size'), maxObjectSize: config.bytes('strata.worker.s3.proxy.cache.max.object.size') },
        tls: tlsEnabled ? { ca: caFile ? readFileSync(caFile) : undefined } : undefined,
        registry: opts.registry,
        logger: this.logger,
        // A bucket made through another worker a moment ago may not have reached this one's watch yet.
        beforeLocal: this.etcd ? (bucket) => (opts.mounts.get(bucket) ? Promise.resolve() : opts.mounts.reload().catch(() => undefined)) : undefined,
      });
    }
  }

  /** Joins the ring once this worker serves (ETCD: registers it), so nobody forwards to it earlier. */
  async join(): Promise<void> {
    try {
      await this.membership?.join();
    } catch (e) {
      throw new Error(`cannot register this worker in etcd at ${this.config.list('strata.etcd.endpoints').join(', ')}: ${(e as Error).message}`);
    }
  }

  /** Leaves the ring first when stopping (the others move this worker's keys while it drains). */
  async leave(): Promise<void> {
    await this.membership?.stop().catch(() => undefined);
  }

  async stop(): Promise<void> {
    await this.forwarder?.close().catch(() => undefined);
    await this.membership?.stop().catch(() => undefined);
    if (this.mountStore instanceof EtcdMountStore) await this.mountStore.close();
    this.etcd?.close();
  }
}
