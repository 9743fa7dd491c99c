// What workers sign with the cluster secret:
// - the marker of a forwarded request (`x-strata-forwarded: <time>.<hmac>` over method, request
//   target, time and the proxy cache's held version if any): the owner serves such a request itself
//   and never forwards it again;
// - the token of a redirect (`x-strata-redirect=<expiry>.<user>.<groups>.<hmac>` in the Location's
//   query, over method, object path, user, OIDC groups and expiry): clients drop Authorization when
//   they follow a redirect to another host or port, so the token tells the owner who the original
//   user was, with the groups its authorization rules may name.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const FORWARD_HEADER = 'x-strata-forwarded';
export const REDIRECT_PARAM = 'x-strata-redirect';
/** Clock difference tolerated between workers for the marker. */
export const MARKER_WINDOW_S = 300;
/** Lifetime of a redirect token: the client follows the 307 at once. */
export const REDIRECT_TOKEN_TTL_S = 60;

function mac(secret: Buffer, ...parts: string[]): string {
  return createHmac('sha256', secret).update(parts.join('\n')).digest('base64url');
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** `held`: the proxy cache's x-strata-held-version, signed along so that only a worker can send it. */
export function signForward(secret: Buffer, method: string, target: string, nowS = Math.floor(Date.now() / 1000), held?: string): string {
  return `${nowS}.${forwardMac(secret, method, target, nowS, held)}`;
}

export function verifyForward(secret: Buffer, marker: string, method: string, target: string, nowS = Math.floor(Date.now() / 1000), held?: string): boolean {
  const dot = marker.indexOf('.');
  if (dot <= 0) return false;
  const time = Number(marker.slice(0, dot));
  if (!Number.isInteger(time) || Math.abs(nowS - time) > MARKER_WINDOW_S) return false;
  return same(marker.slice(dot + 1), forwardMac(secret, method, target, time, held));
}

function forwardMac(secret: Buffer, method: string, target: string, time: number, held: string | undefined): string {
  const parts = ['forward', method.toUpperCase(), target, String(time)];
  return held === undefined ? mac(secret, ...parts) : mac(secret, ...parts, 'held', held);
}

/** Who a redirect token speaks for: the user and the OIDC groups that authorization counts. */
export interface TokenIdentity {
  user: string;
  groups?: readonly string[];
}

/** `path` is the decoded `/bucket/key` (robust to how a client re-encodes the Location). */
export function signRedirect(secret: Buffer, method: string, path: string, who: TokenIdentity, nowS = Math.floor(Date.now() / 1000)): string {
  const expiry = nowS + REDIRECT_TOKEN_TTL_S;
  const u = Buffer.from(who.user, 'utf8').toString('base64url');
  const groups = who.groups?.length ? JSON.stringify(who.groups) : '';
  const g = Buffer.from(groups, 'utf8').toString('base64url');
  return `${expiry}.${u}.${g}.${redirectMac(secret, method, path, who.user, groups, expiry)}`;
}

/** Who a valid, unexpired token names, or undefined. */
export function verifyRedirect(secret: Buffer, token: string, method: string, path: string, nowS = Math.floor(Date.now() / 1000)): TokenIdentity | undefined {
  const parts = token.split('.');
  if (parts.length !== 4) return undefined;
  const expiry = Number(parts[0]);
  if (!Number.isInteger(expiry) || expiry < nowS) return undefined;
  const user = Buffer.from(parts[1], 'base64url').toString('utf8');
  const groups = Buffer.from(parts[2], 'base64url').toString('utf8');
  if (!same(parts[3], redirectMac(secret, method, path, user, groups, expiry))) return undefined;
  return groups === '' ? { user } : { user, groups: JSON.parse(groups) as string[] };
}

function redirectMac(secret: Buffer, method: string, path: string, user: string, groups: string, expiry: number): string {
  return mac(secret, 'redirect', method.toUpperCase(), path, user, groups, String(expiry));
}
