// `strata status`: the status page's figures as text for a terminal.
import type { WorkerStatus } from '../metrics/adminServer.js';

const bytes = (n: number): string => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
};

const pct = (a: number, b: number): string => `${b ? ((100 * a) / b).toFixed(1) : '0'}%`;

function rate(s: WorkerStatus, pick: (h: WorkerStatus['history'][number]) => number, windowMs: number): number {
  const h = s.history;
  if (h.length < 2) return 0;
  const last = h[h.length - 1];
  const first = h.find((x) => x.t >= last.t - windowMs) ?? h[0];
  const dt = (last.t - first.t) / 1000;
  return dt > 0 ? (pick(last) - pick(first)) / dt : 0;
}

export function renderStatus(s: WorkerStatus): string {
  const up = Math.round((Date.parse(s.now) - Date.parse(s.startedAt)) / 1000);
  const lines = [
    `Strata worker ${s.hostname}:${s.s3Port} (admin :${s.webPort}), ${s.eventLoops} S3 process${s.eventLoops > 1 ? 'es' : ''}, up ${up} s`,
    '',
    `requests   ${s.totals.requests}   (4xx ${s.totals.clientErrors}, 5xx ${s.totals.serverErrors})`,
    `bytes      in ${bytes(s.totals.bytesIn)}, out ${bytes(s.totals.bytesOut)}`,
    `last 5 min ${rate(s, (h) => h.requests, 300_000).toFixed(1)} req/s, in ${(rate(s, (h) => h.bytesIn, 300_000) / 1048576).toFixed(2)} MiB/s, out ${(rate(s, (h) => h.bytesOut, 300_000) / 1048576).toFixed(2)} MiB/s`,
    '',
    'mounts',
    ...(s.mounts.length ? s.mounts.map((m) => `  /${m.bucket}\t${m.ufsUri}\t${m.origin}`) : ['  (none)']),
    'cache',
    ...(s.cache.length ? s.cache.map((c) => `  ${c.dir}\t${bytes(c.usedBytes)} of ${bytes(c.capacityBytes)}`) : ['  (no page cache)']),
    ...(s.cache.length
      ? [`  hit ratio ${pct(s.totals.cacheHits, s.totals.cacheHits + s.totals.cacheMisses)} of ${s.totals.cacheHits + s.totals.cacheMisses} page lookups${s.cacheRestore ? `; restore ${s.cacheRestore.state} (${s.cacheRestore.pages} pages)` : ''}`]
      : []),
    'ring',
    ...s.ring.map((m) => `  ${m.address}\t${m.alive ? 'alive' : 'down'}${m.self ? '\t(this worker)' : ''}`),
    'recent errors',
    ...(s.recentErrors.length
      ? s.recentErrors.slice(0, 10).map((e) => `  ${e.time}  ${e.status} ${e.code}  ${e.action} ${e.bucket ? `/${e.bucket}` : ''}${e.key ? `/${e.key}` : ''}  ${e.user}`)
      : ['  (none)']),
  ];
  return lines.join('\n');
}
