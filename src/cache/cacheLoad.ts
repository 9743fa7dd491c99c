// `strata cache load`: lists the objects under a prefix, then brings each into the cache, page by
// page, reporting progress (files, bytes, of the totals listed) as it goes.
import type { ListPage, ListRequest } from '../ufs/ufs.js';

export interface LoadProgress {
  phase: 'listing' | 'loading' | 'done';
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
  failed: number;
  seconds: number;
  /** The first few failures, for the summary. */
  errors: string[];
}

export interface LoadSource {
  listObjects(bucket: string, request: ListRequest): Promise<ListPage>;
  warm(bucket: string, key: string, onBytes: (n: number) => void): Promise<number>;
}

const FILES_AT_ONCE = 4;

export async function loadPrefix(src: LoadSource, bucket: string, prefix: string, progress: (p: LoadProgress) => void): Promise<LoadProgress> {
  const started = Date.now();
  const p: LoadProgress = { phase: 'listing', files: 0, bytes: 0, totalFiles: 0, totalBytes: 0, failed: 0, seconds: 0, errors: [] };
  const report = () => progress({ ...p, seconds: (Date.now() - started) / 1000 });
  const keys: Array<{ key: string; size: number }> = [];
  let after = '';
  for (;;) {
    const page = await src.listObjects(bucket, { prefix, delimiter: '', after, maxKeys: 1000 });
    for (const e of page.entries) {
      if (e.isFolder || e.size === 0) continue;
      keys.push({ key: e.key, size: e.size });
      p.totalFiles++;
      p.totalBytes += e.size;
    }
    report();
    if (!page.isTruncated || !page.last) break;
    after = page.last;
  }
  p.phase = 'loading';
  report();
  let next = 0;
  let lastReport = 0;
  const lane = async () => {
    while (next < keys.length) {
      const { key } = keys[next++];
      try {
        await src.warm(bucket, key, (n) => {
          p.bytes += n;
          if (Date.now() - lastReport > 200) {
            lastReport = Date.now();
            report();
          }
        });
        p.files++;
      } catch (e) {
        p.failed++;
        if (p.errors.length < 5) p.errors.push(`${key}: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: FILES_AT_ONCE }, lane));
  p.phase = 'done';
  p.seconds = (Date.now() - started) / 1000;
  progress({ ...p });
  return p;
}
