// The policy of a browser-based upload (POST Object): a base64 JSON document with an expiration and
// conditions every form field must meet. Pure: decoding, validation and the checks, no I/O.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html
import { S3Error } from '../errors.js';

export type PolicyCondition =
  | { kind: 'eq' | 'starts-with'; field: string; value: string }
  | { kind: 'content-length-range'; min: number; max: number };

export interface PostPolicy {
  expiration: Date;
  conditions: PolicyCondition[];
}

/** Form fields no condition needs to name: the signature's own fields, the file, x-ignore-*. */
const EXEMPT_FIELDS = new Set(['policy', 'signature', 'x-amz-signature', 'awsaccesskeyid', 'file']);

/** ISO 8601 in UTC, as the policy language requires (`2026-12-01T12:00:00.000Z`). */
const EXPIRATION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function invalid(message: string): S3Error {
  return new S3Error('InvalidPolicyDocument', `Invalid Policy: ${message}`);
}

/** Decodes and validates the policy; InvalidPolicyDocument when malformed, AccessDenied when expired. */
export function parsePostPolicy(base64: string, now = new Date()): PostPolicy {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
  } catch {
    throw invalid('Invalid JSON.');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('Invalid JSON.');
  const { expiration, conditions } = doc as Record<string, unknown>;
  if (expiration === undefined) throw invalid('Policy missing expiration.');
  if (typeof expiration !== 'string' || !EXPIRATION.test(expiration) || Number.isNaN(Date.parse(expiration))) {
    throw invalid(`Invalid 'expiration' value: '${String(expiration)}'.`);
  }
  if (!Array.isArray(conditions)) throw invalid('Policy missing conditions.');
  const policy = { expiration: new Date(expiration), conditions: conditions.map(parseCondition) };
  if (policy.expiration.getTime() <= now.getTime()) throw new S3Error('AccessDenied', 'Invalid according to Policy: Policy expired.');
  return policy;
}

function parseCondition(c: unknown): PolicyCondition {
  if (Array.isArray(c)) {
    const op = String(c[0]).toLowerCase();
    if (op === 'content-length-range') {
      const [min, max] = [c[1], c[2]].map((n) => (typeof n === 'string' && /^\d+$/.test(n) ? Number(n) : n));
      if (c.length !== 3 || !Number.isSafeInteger(min) || !Number.isSafeInteger(max) || (min as number) < 0 || (max as number) < (min as number)) {
        throw invalid('Invalid content-length-range condition: it needs two integers, 0 <= min <= max.');
      }
      return { kind: 'content-length-range', min: min as number, max: max as number };
    }
    if (op !== 'eq' && op !== 'starts-with') throw invalid(`Unknown condition operator: ${String(c[0])}.`);
    if (c.length !== 3 || typeof c[1] !== 'string' || !c[1].startsWith('$') || typeof c[2] !== 'string') {
      throw invalid(`Condition ${op} needs a "$field" and a string value.`);
    }
    return { kind: op, field: c[1].slice(1).toLowerCase(), value: c[2] };
  }
  if (typeof c === 'object' && c !== null) {
    const entries = Object.entries(c);
    if (entries.length !== 1 || typeof entries[0][1] !== 'string') throw invalid('A condition object must name exactly one field with a string value.');
    return { kind: 'eq', field: entries[0][0].toLowerCase(), value: entries[0][1] };
  }
  throw invalid('A condition must be an object or an array.');
}

/**
 * Checks the form against the policy: every condition holds (a field not sent counts as empty)
 * and every field sent, and the bucket, is named by a condition. `fields` have lower-case names
 * and the key with `${filename}` already substituted. Returns the allowed file sizes, if limited.
 */
export function checkPostPolicy(policy: PostPolicy, fields: ReadonlyMap<string, string>, bucket: string): { min: number; max: number } | undefined {
  const valueOf = (name: string) => (name === 'bucket' ? bucket : (fields.get(name) ?? ''));
  const named = new Set<string>();
  let sizes: { min: number; max: number } | undefined;
  for (const c of policy.conditions) {
    if (c.kind === 'content-length-range') {
      sizes = { min: c.min, max: c.max };
      continue;
    }
    named.add(c.field);
    const value = valueOf(c.field);
    // A Content-Type may list several types, each of which must start so.
    const values = c.kind === 'starts-with' && c.field === 'content-type' ? value.split(',').map((v) => v.trim()) : [value];
    const holds = values.every((v) => (c.kind === 'eq' ? v === c.value : v.startsWith(c.value)));
    if (!holds) throw new S3Error('AccessDenied', `Invalid according to Policy: Policy Condition failed: ["${c.kind}", "$${c.field}", "${c.value}"]`);
  }
  const extra = ['bucket', ...fields.keys()].filter((f) => !named.has(f) && !EXEMPT_FIELDS.has(f) && !f.startsWith('x-ignore-'));
  if (extra.length > 0) throw new S3Error('AccessDenied', `Invalid according to Policy: Extra input fields: ${extra.join(', ')}`);
  return sizes;
}
