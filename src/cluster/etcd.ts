// The etcd client a worker process uses (membership, mount table, cluster secret), tuned so that
// a lost etcd is noticed in seconds and a restarted one is used again at once: every unary call
// has a deadline, the watch reconnects within a second, and there is no circuit breaker (a
// process that cannot reach etcd keeps serving with what it knows).
import { randomBytes } from 'node:crypto';
import { type IBackoff, noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';

/** Every key Strata keeps in etcd lives under this prefix (DESIGN.md). */
export const ETCD_PREFIX = '/strata/';
export const WORKERS_PREFIX = `${ETCD_PREFIX}workers/`;
export const MOUNTS_PREFIX = `${ETCD_PREFIX}mounts/`;
export const SECRET_KEY = `${ETCD_PREFIX}secret`;

const CALL_DEADLINE_MS = 5000;
/** The watch reconnects every half second while etcd is away. */
const WATCH_RETRY: IBackoff<unknown> = { duration: 500, next: () => WATCH_RETRY };

export function createEtcdClient(endpoints: readonly string[]): Etcd3 {
  if (endpoints.length === 0) throw new Error('ETCD membership needs strata.etcd.endpoints');
  return new Etcd3({
    hosts: endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`)),
    dialTimeout: 3000,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + CALL_DEADLINE_MS }),
    faultHandling: { host: () => noop, global: noop, watchBackoff: WATCH_RETRY },
  });
}

/**
 * The cluster secret kept in etcd: made once by whichever worker comes first (a create-if-absent
 * transaction), read by every other.
 */
export async function etcdClusterSecret(client: Etcd3): Promise<Buffer> {
  const fresh = randomBytes(32).toString('hex');
  await client.if(SECRET_KEY, 'Create', '==', 0).then(client.put(SECRET_KEY).value(fresh)).commit();
  const stored = await client.get(SECRET_KEY).string();
  if (!stored) throw new Error(`etcd has no ${SECRET_KEY} after creating it`);
  return Buffer.from(stored.trim(), 'hex');
}
