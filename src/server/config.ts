// One validated configuration object, built from (lowest to highest precedence):
// schema defaults < properties file < environment (STRATA_WORKER_REST_PORT=...) < -D flags.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { CONFIG_SCHEMA, type KeyDef, lookupKey, parseDuration, parseSize, validateValue } from './configSchema.js';

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, string>;
}

export class Config {
  private readonly values = new Map<string, string>();
  /** Where each key's value came from, for `strata conf list`. */
  private readonly origins = new Map<string, string>();
  readonly unknown = new Map<string, string>();

  constructor(sources: ConfigSources = {}) {
    for (const def of CONFIG_SCHEMA) {
      this.values.set(def.key, def.default);
      this.origins.set(def.key, 'default');
    }
    if (sources.file) this.applyAll(parseProperties(readFileSync(sources.file, 'utf8')), `file ${sources.file}`);
    if (sources.env) this.applyAll(fromEnvironment(sources.env), 'environment');
    if (sources.overrides) this.applyAll(sources.overrides, 'command line');
  }

  private applyAll(entries: Record<string, string>, origin: string): void {
    for (const [name, value] of Object.entries(entries)) this.set(name, value, origin);
  }

  set(name: string, value: string, origin = 'runtime'): void {
    const def = lookupKey(name);
    if (!def) {
      this.unknown.set(name, value);
      return;
    }
    this.values.set(def.key, validateValue(def, value));
    this.origins.set(def.key, origin);
  }

  private def(name: string): KeyDef {
    const def = lookupKey(name);
    if (!def) throw new Error(`unknown configuration key: ${name}`);
    return def;
  }

  /** The raw text of a key, under any of its spellings. */
  raw(name: string): string {
    return this.values.get(this.def(name).key) ?? '';
  }

  origin(name: string): string {
    return this.origins.get(this.def(name).key) ?? 'default';
  }

  string(name: string): string {
    return this.raw(name);
  }

  int(name: string): number {
    return Number.parseInt(this.raw(name), 10);
  }

  bool(name: string): boolean {
    return this.raw(name) === 'true';
  }

  durationMs(name: string): number {
    return parseDuration(this.raw(name));
  }

  bytes(name: string): number {
    return parseSize(this.raw(name));
  }

  list(name: string): string[] {
    return this.raw(name).split(',').map((s) => s.trim()).filter(Boolean);
  }

  /** A folder path, with `~` expanded and made absolute. */
  path(name: string): string {
    const v = this.raw(name);
    if (v === '') return '';
    return resolve(v.startsWith('~') ? homedir() + v.slice(1) : v);
  }

  entries(): Array<{ key: string; value: string; origin: string }> {
    return CONFIG_SCHEMA.map((d) => ({ key: d.key, value: this.values.get(d.key) ?? '', origin: this.origins.get(d.key) ?? '' }));
  }
}

/** Java-style properties: `key=value` or `key: value`, `#` and `!` comments. */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#') || t.startsWith('!')) continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(t);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** STRATA_WORKER_REST_PORT=1 -> strata.worker.rest.port=1 (only keys the schema knows). */
function fromEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const def of CONFIG_SCHEMA) {
    const name = def.key.toUpperCase().replace(/\./g, '_');
    const value = env[name];
    if (value !== undefined) out[def.key] = value;
  }
  return out;
}
