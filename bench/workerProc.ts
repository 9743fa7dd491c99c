// Starting the built worker for a benchmark: the test helper's startWorker, registered for cleanup,
// optionally under the V8 CPU profiler.
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startWorker, type RunningWorker } from '../test/helpers/worker.js';
import { onCleanup } from './lib.js';

export interface BenchWorker {
  worker: RunningWorker;
  pid: number;
  stop: () => Promise<void>;
}

/**
 * Starts a worker with `conf`. With `cpuProfDir`, each of the worker's processes runs under the V8
 * profiler and writes CPU.<pid>.cpuprofile there when it stops (open it in Chrome DevTools, or
 * summarize it with `node dist/bench/profileSummary.js`).
 */
export async function startBenchWorker(conf: Record<string, string>, cpuProfDir?: string): Promise<BenchWorker> {
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, STRATA_BENCH_CPU_PROF_DIR: process.env.STRATA_BENCH_CPU_PROF_DIR };
  if (cpuProfDir) {
    // startWorker spawns `node` with this process's environment, so these reach the worker (and its
    // node:cluster children) only. `--cpu-prof` itself is refused in NODE_OPTIONS; a preload is not.
    const preload = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'cpuProfPreload.js')).href;
    process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
    process.env.STRATA_BENCH_CPU_PROF_DIR = resolve(cpuProfDir);
  }
  let worker: RunningWorker;
  try {
    worker = await startWorker({ conf });
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const pid = worker.process.pid!;
  const stopBounded = async () => {
    // SIGTERM drains; SIGKILL after 15 s (a profile is written only on an orderly exit).
    const t = setTimeout(() => void worker.kill(), 15_000);
    try {
      await worker.stop();
    } finally {
      clearTimeout(t);
      rmSync(worker.workDir, { recursive: true, force: true });
    }
  };
  const remove = onCleanup({
    sync: () => {
      if (worker.process.exitCode === null) worker.process.kill('SIGKILL');
      rmSync(worker.workDir, { recursive: true, force: true });
    },
    async: stopBounded,
  });
  return {
    worker,
    pid,
    stop: async () => {
      remove();
      await stopBounded();
    },
  };
}
