// Summarizes V8 .cpuprofile files (from `--cpu-prof`, e.g. `getVsNginx.js --cpu-prof DIR`): where the
// worker's main thread spends its time, by category, by function (self), and by function including
// what it calls (inclusive).
//
//   node dist/bench/profileSummary.js [--top 30] [--match TEXT] FILE.cpuprofile...
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  const url = f.url.replace(/^file:\/\/.*?\/dist\//, 'dist/').replace(/^file:\/\/.*?\/node_modules\//, 'node_modules/');
  return `${name} ${url}:${f.lineNumber + 1}`;
}

function category(f: CallFrame): string {
  if (!f.url) {
    if (f.functionName === '(idle)') return 'idle (waiting in epoll)';
    if (f.functionName === '(garbage collector)') return 'garbage collector';
    if (f.functionName === '(program)') return 'program (native: V8/libuv/C++ outside JS frames)';
    if (f.functionName === '(root)') return 'root';
    return 'native builtins';
  }
  if (f.url.startsWith('node:')) return 'node core (JS)';
  if (f.url.includes('/node_modules/')) return 'dependencies';
  if (f.url.includes('/dist/src/')) return 'strata src';
  return 'other JS';
}

export function summarize(profile: Profile, top: number, match?: string): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const busy = total - [...self.entries()].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, v]) => a + v, 0);

  const selfByFn = new Map<string, number>();
  const byCat = new Map<string, number>();
  const inclusive = new Map<string, number>();
  // Depth-first from the root, counting each function once per stack (recursion does not double).
  const root = profile.nodes[0];
  const stack: Array<{ node: ProfileNode; onStack: Set<string> }> = [{ node: root, onStack: new Set() }];
  while (stack.length > 0) {
    const { node, onStack } = stack.pop()!;
    const key = label(node.callFrame);
    const here = new Set(onStack);
    here.add(key);
    const t = self.get(node.id) ?? 0;
    if (t > 0) {
      selfByFn.set(key, (selfByFn.get(key) ?? 0) + t);
      const c = category(node.callFrame);
      byCat.set(c, (byCat.get(c) ?? 0) + t);
      for (const k of here) inclusive.set(k, (inclusive.get(k) ?? 0) + t);
    }
    for (const child of node.children ?? []) stack.push({ node: byId.get(child)!, onStack: here });
  }
  const pct = (v: number, of: number) => `${((100 * v) / of).toFixed(1).padStart(5)}%`;
  const ms = (v: number) => `${(v / 1000).toFixed(0).padStart(7)} ms`;
  const lines: string[] = [];
  lines.push(`profile: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (not idle); percentages of busy time`);
  lines.push('', 'by category (self time):');
  for (const [c, v] of [...byCat].sort((a, b) => b[1] - a[1])) {
    if (c.startsWith('idle')) lines.push(`  ${ms(v)}   (idle)   ${c}`);
    else lines.push(`  ${ms(v)} ${pct(v, busy)}  ${c}`);
  }
  const filt = (k: string) => !k.startsWith('(idle)') && !k.startsWith('(root)') && (!match || k.includes(match));
  lines.push('', `top ${top} functions by self time:`);
  for (const [k, v] of [...selfByFn].filter(([k]) => filt(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${ms(v)} ${pct(v, busy)}  ${k}`);
  lines.push('', `top ${top} functions by inclusive time (self + callees):`);
  for (const [k, v] of [...inclusive].filter(([k]) => filt(k) && !k.startsWith('(program)')).sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`  ${ms(v)} ${pct(v, busy)}  ${k}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  let top = 30;
  let match: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--top') top = Number(args[++i]);
    else if (args[i] === '--match') match = args[++i];
    else files.push(args[i]);
  }
  if (files.length === 0) {
    console.error('usage: node dist/bench/profileSummary.js [--top N] [--match TEXT] FILE.cpuprofile...');
    process.exit(1);
  }
  for (const f of files) {
    console.log(`== ${f}`);
    console.log(summarize(JSON.parse(readFileSync(f, 'utf8')) as Profile, top, match));
  }
}
