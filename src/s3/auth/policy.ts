// Authorization: which users (or OIDC groups, `group:<name>`) may read, write, list or administer
// which buckets and key prefixes. A JSON file (strata.security.authorization.policy.file), re-read
// when it changes; without one every authenticated user may do everything. See docs/security.md.
//
//   { "rules": [ { "principals": ["alice", "group:analysts"], "actions": ["read", "list"],
//                  "buckets": ["data"], "prefixes": ["reports/"], "effect": "allow" } ] }
//
// A request is allowed when an allow rule matches it and no deny rule does.
import { WatchedFile } from './watchedFile.js';

export type Category = 'read' | 'write' | 'list' | 'admin';
export const CATEGORIES: readonly Category[] = ['read', 'write', 'list', 'admin'];

export interface PolicyRule {
  principals: string[];
  actions: Array<Category | '*'>;
  buckets: string[];
  /** Key prefixes the rule covers; absent: the whole bucket. */
  prefixes?: string[];
  effect: 'allow' | 'deny';
}

export interface Policy {
  rules: PolicyRule[];
}

/** One request as authorization sees it. */
export interface AccessRequest {
  user: string;
  groups?: readonly string[];
  category: Category;
  /** '' for service-level requests (ListBuckets). */
  bucket: string;
  /**
   * The key (object requests) or the listing prefix (listings). Undefined for bucket-level
   * requests, which any rule on the bucket covers, whatever its prefixes.
   */
  path?: string;
  /** The request can touch any key of the bucket (DeleteObjects): only rules without prefixes match. */
  wholeBucket?: boolean;
}

/** Whether the policy lets the request through. */
export function isAllowed(policy: Policy, a: AccessRequest): boolean {
  if (a.bucket === '') return true; // ListBuckets: every authenticated user sees the bucket names.
  let allowed = false;
  for (const rule of policy.rules) {
    if (!matches(rule, a)) continue;
    if (rule.effect === 'deny') return false;
    allowed = true;
  }
  return allowed;
}

function matches(rule: PolicyRule, a: AccessRequest): boolean {
  const principals = [a.user, ...(a.groups ?? []).map((g) => `group:${g}`)];
  if (!rule.principals.some((p) => p === '*' || principals.includes(p))) return false;
  if (!rule.actions.some((c) => c === '*' || c === a.category)) return false;
  if (!rule.buckets.some((b) => globMatch(b, a.bucket))) return false;
  if (!rule.prefixes) return true;
  // A deny rule with prefixes applies to a whole-bucket request too (it may reach those keys).
  if (a.wholeBucket) return rule.effect === 'deny';
  if (a.path === undefined) return true;
  return rule.prefixes.some((p) => a.path!.startsWith(p));
}

/** `*` matches any run of characters; everything else literally. */
function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp('^' + pattern.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(value);
}

/** Parses and checks a policy document; errors say where the document is wrong. */
export function parsePolicy(text: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`policy file: not JSON (${(e as Error).message})`);
  }
  const rules = (doc as { rules?: unknown })?.rules;
  if (!Array.isArray(rules)) throw new Error('policy file: expected {"rules": [...]}');
  return {
    rules: rules.map((r, i) => {
      const where = `policy file: rules[${i}]`;
      const o = r as Record<string, unknown>;
      const list = (name: string, required: boolean): string[] | undefined => {
        const v = o?.[name];
        if (v === undefined && !required) return undefined;
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${where}.${name} must be a list of strings`);
        return v as string[];
      };
      const actions = list('actions', true)!;
      for (const a of actions) if (a !== '*' && !CATEGORIES.includes(a as Category)) throw new Error(`${where}.actions: "${a}" is not read, write, list, admin or *`);
      const effect = o.effect ?? 'allow';
      if (effect !== 'allow' && effect !== 'deny') throw new Error(`${where}.effect must be "allow" or "deny"`);
      return { principals: list('principals', true)!, actions: actions as PolicyRule['actions'], buckets: list('buckets', true)!, prefixes: list('prefixes', false), effect };
    }),
  };
}

/** The policy file, re-read when it changes (an unreadable new version keeps the last good one). */
export class PolicyFile {
  private readonly file: WatchedFile<Policy>;
  constructor(path: string, opts: { intervalMs?: number; onError?: (e: Error) => void; onReload?: () => void } = {}) {
    this.file = new WatchedFile(path, parsePolicy, opts.intervalMs ?? 1000, opts.onError, opts.onReload);
  }
  allows(a: AccessRequest): boolean {
    return isAllowed(this.file.get(), a);
  }
}
