// Preloaded into the worker's processes by the benchmarks' --cpu-prof (through
// NODE_OPTIONS=--import, which, unlike node's own --cpu-prof, NODE_OPTIONS accepts and node:cluster
// children inherit). Starts the V8 sampling profiler and writes
// <STRATA_BENCH_CPU_PROF_DIR>/CPU.<pid>.cpuprofile when the process exits in an orderly way.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.STRATA_BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  // 1 ms sampling, as `node --cpu-prof` does.
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  let written = false;
  const write = () => {
    if (written) return;
    written = true;
    // A session on the process's own thread answers synchronously, so this works in 'exit'.
    session.post('Profiler.stop', (err, res) => {
      if (err || !res) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  };
  process.once('exit', write);
}
