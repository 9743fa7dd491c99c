// strata cache stats | free | load: the page cache of a running worker, through its admin API.
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { LoadProgress } from '../cache/cacheLoad.js';

type Admin = (method: string, path: string, body?: unknown) => Promise<Record<string, unknown>>;

interface Stats {
  dirs: Array<{ dir: string; usedBytes: number; capacityBytes: number; pages: number }>;
  policy: string;
  pageSize: number;
  evictions: number;
  hits: number;
  misses: number;
  hitRatio: number;
  bytesFromCache: number;
  bytesFromUfs: number;
  corrupt: number;
  failures: number;
  stale: number;
  restore: { state: string; pages: number; bytes: number; dropped: number; seconds: number };
}

/** A line of `POST /api/v1/cache/load`'s answer: the loader's progress, or an error that ended it. */
type Progress = Omit<LoadProgress, 'phase'> & { phase: LoadProgress['phase'] | 'error'; message?: string; error?: string };

export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

export function renderCacheStats(s: Stats): string {
  const used = s.dirs.reduce((a, d) => a + d.usedBytes, 0);
  const cap = s.dirs.reduce((a, d) => a + d.capacityBytes, 0);
  const pages = s.dirs.reduce((a, d) => a + d.pages, 0);
  const lines = [
    `Page cache: ${bytesText(used)} of ${bytesText(cap)} used (${cap ? ((100 * used) / cap).toFixed(1) : '0'}%), ${pages} pages of ${bytesText(s.pageSize)}, eviction ${s.policy}`,
    `Hit ratio:  ${(100 * s.hitRatio).toFixed(1)}% (${s.hits} hits, ${s.misses} misses)`,
    `Served:     ${bytesText(s.bytesFromCache)} from cache, ${bytesText(s.bytesFromUfs)} from the under-storage`,
    `Evictions:  ${s.evictions}   corrupt pages: ${s.corrupt}   cache failures: ${s.failures}   stale served: ${s.stale}`,
    `Restore:    ${s.restore.state} (${s.restore.pages} pages, ${bytesText(s.restore.bytes)}, ${s.restore.seconds.toFixed(1)} s)`,
    'Folders:',
  ];
  for (const d of s.dirs) lines.push(`  ${d.dir}\t${bytesText(d.usedBytes)} / ${bytesText(d.capacityBytes)}\t${d.pages} pages`);
  return lines.join('\n');
}

export function addCacheCommands(cache: Command, withConfig: (c: Command) => Command, admin: (opts: Record<string, unknown>) => { call: Admin; base: string }): void {
  withConfig(cache.command('stats').description('print cache usage, hit ratio and evictions'))
    .option('--worker <host:port>', "the worker's admin address")
    .option('--json', 'print the raw JSON of /api/v1/cache')
    .action(async (opts) => {
      const s = (await admin(opts).call('GET', '/api/v1/cache')) as unknown as Stats;
      console.log(opts.json ? JSON.stringify(s, null, 2) : renderCacheStats(s));
    });
  withConfig(cache.command('free').description('drop the cached pages of the objects under a prefix').argument('<path>', '/<bucket>/<prefix> or s3://<bucket>/<prefix>'))
    .option('--worker <host:port>', "the worker's admin address")
    .action(async (path: string, opts) => {
      const out = await admin(opts).call('POST', '/api/v1/cache/free', { path });
      console.log(`Freed ${out.pages} pages (${bytesText(Number(out.bytes))}) under /${out.bucket}/${out.prefix}`);
    });
  withConfig(cache.command('load').description('bring the objects under a prefix into the cache').argument('<path>', '/<bucket>/<prefix> or s3://<bucket>/<prefix>'))
    .option('--worker <host:port>', "the worker's admin address")
    .option('--no-progress', 'no progress bar (only the summary)')
    .action(async (path: string, opts) => {
      const last = await streamLoad(admin(opts).base, path, opts.progress !== false && process.stderr.isTTY !== false);
      if (last.phase === 'error') throw new Error(`${last.error}: ${last.message}`);
      const rate = last.seconds > 0 ? last.bytes / last.seconds : 0;
      console.log(`Loaded ${last.files} of ${last.totalFiles} files, ${bytesText(last.bytes)} in ${last.seconds.toFixed(1)} s (${bytesText(rate)}/s)${last.failed ? `; ${last.failed} failed` : ''}`);
      for (const e of last.errors ?? []) console.log(`  failed: ${e}`);
      if (last.failed) process.exitCode = 2;
    });
}

/** POSTs the load and reads its progress lines, drawing a bar (files, bytes, rate, ETA). */
async function streamLoad(base: string, path: string, showBar: boolean): Promise<Progress> {
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/cache/load`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path }) });
  } catch (e) {
    throw new Error(`cannot reach the worker's admin API at ${base} (${(e as Error).cause ?? (e as Error).message}); is the worker running?`);
  }
  if (!res.ok || !res.body) {
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    throw new Error(`${json.error ?? res.status}: ${json.message ?? res.statusText}`);
  }
  const bar = showBar
    ? new cliProgress.SingleBar({
        format: ' {bar} {percentage}% | {files}/{totalFiles} files | {doneText}/{totalText} | {rate}/s | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
      }, cliProgress.Presets.shades_classic)
    : undefined;
  let started = false;
  let last: Progress | undefined;
  const decoder = new TextDecoder();
  let pending = '';
  const onLine = (line: string) => {
    if (!line.trim()) return;
    const p = JSON.parse(line) as Progress;
    last = p;
    if (!bar || p.phase === 'listing' || p.phase === 'error') return;
    const payload = { files: p.files, totalFiles: p.totalFiles, doneText: bytesText(p.bytes), totalText: bytesText(p.totalBytes), rate: bytesText(p.seconds > 0 ? p.bytes / p.seconds : 0) };
    if (!started) {
      bar.start(Math.max(p.totalBytes, 1), p.bytes, payload);
      started = true;
    } else bar.update(p.bytes, payload);
  };
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  onLine(pending);
  if (started) bar!.stop();
  if (!last) throw new Error('the worker sent no progress');
  return last;
}
