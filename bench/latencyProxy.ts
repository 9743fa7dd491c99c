// An HTTP proxy that holds every request for a fixed time before passing it on: it stands for an
// object store far away (a WAN round trip) in front of a local S3 server, so a benchmark can show
// what the cache saves. Bodies stream both ways; connections to the target are kept alive.
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';

export interface LatencyProxy {
  url: string;
  /** Requests passed on so far. */
  requests: () => number;
  close: () => Promise<void>;
}

export async function startLatencyProxy(target: string, delayMs: number): Promise<LatencyProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  let count = 0;
  const server: Server = createServer((req, res) => {
    count++;
    // The request body waits in the socket buffer meanwhile (paused), as it would on a slow link.
    req.pause();
    setTimeout(() => {
      const out = request(
        { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers, agent },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          pipeline(answer, res).catch(() => res.destroy());
        },
      );
      out.on('error', () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      pipeline(req, out).catch(() => out.destroy());
    }, delayMs);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => count,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
