// nginx configuration for Pattern C: nginx itself sends each request to the worker that owns its path,
// with `hash $uri consistent` over the workers' addresses, which is the ring NGINX_KETAMA reproduces.
// Printed by `strata lb nginx`; the snippet goes inside nginx's `http { }` block. docs/ring.md.
import type { RingMember } from './ring.js';

export interface NginxUpstreamOptions {
  /** Name of the upstream block (default `strata_workers`). */
  upstream?: string;
  /** The `listen` argument of the server block (default `29998`, the spec's S3 port). */
  listen?: string | number;
  /** Idle keep-alive connections to the workers kept by each nginx worker process (default 64). */
  keepalive?: number;
  /** Longest wait for a worker to send or read (default 300s: large objects, slow clients). */
  proxyTimeout?: string;
}

const NAME = /^[A-Za-z0-9_]+$/;
// One token of an nginx `server` line: no spaces, quotes, braces or semicolons.
const ADDRESS = /^[^\s;{}"'#]+$/;

/**
 * The upstream and server blocks for `members`. Servers are written in address order, the order
 * buildRing(..., {algorithm: 'NGINX_KETAMA'}) takes them in, so nginx picks the owner Strata computes.
 */
export function renderNginxUpstream(members: readonly RingMember[], options: NginxUpstreamOptions = {}): string {
  const upstream = options.upstream ?? 'strata_workers';
  const listen = String(options.listen ?? 29998);
  const keepalive = options.keepalive ?? 64;
  const timeout = options.proxyTimeout ?? '300s';
  if (!NAME.test(upstream)) throw new Error(`upstream name must be letters, digits and _: ${upstream}`);
  if (!ADDRESS.test(listen)) throw new Error(`bad listen address: ${listen}`);
  if (!Number.isInteger(keepalive) || keepalive < 1) throw new Error(`keepalive must be a positive integer: ${keepalive}`);
  if (!/^\d+(ms|s|m|h)?$/.test(timeout)) throw new Error(`bad nginx time: ${timeout}`);
  const addresses = [...new Set(members.map((m) => m.address))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const a of addresses) if (!ADDRESS.test(a)) throw new Error(`bad member address: ${a}`);
  if (addresses.length === 0) throw new Error('no workers to put in the upstream block');
  const idsByAddress = new Map(members.map((m) => [m.address, m.id]));

  return `# Strata, Pattern C: nginx sends each request to the worker that owns its path.
# Workers: set strata.worker.ring.algorithm=NGINX_KETAMA so they agree with this ring.
# Goes inside the http { } block.
upstream ${upstream} {
    # Must come before keepalive. The ring hashes the decoded path, as the workers do.
    hash $uri consistent;
${addresses.map((a) => `    server ${a};${idsByAddress.get(a) !== a ? `  # ${sanitizeComment(idsByAddress.get(a) ?? '')}` : ''}`).join('\n')}
    keepalive ${keepalive};
}

server {
    listen ${listen};
    # S3 keys may hold "//": keep them, so $uri is the path the workers hash.
    merge_slashes off;
    # Stream bodies both ways, of any size; S3 headers can be large.
    client_max_body_size 0;
    large_client_header_buffers 4 16k;
    proxy_request_buffering off;
    proxy_buffering off;
    # Unbuffered, nginx still reads the answer proxy_buffer_size at a time (4k by default):
    # 256k reads cost a worker's byte about five times less of nginx's CPU.
    proxy_buffer_size 256k;
    proxy_buffers 4 256k;
    proxy_busy_buffers_size 512k;
    proxy_http_version 1.1;
    # Keep-alive to the workers; the client's Host stays, as SigV4 signed it.
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_read_timeout ${timeout};
    proxy_send_timeout ${timeout};

    location / {
        # No URI part: the request line goes to the worker exactly as the client sent it.
        proxy_pass http://${upstream};
    }
}
`;
}

function sanitizeComment(s: string): string {
  return s.replace(/[\r\n]/g, ' ');
}
