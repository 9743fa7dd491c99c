// Store faults seen by the S3 adapter: a store that answers 5xx or SlowDown, one that accepts
// connections and never answers, one that stops mid-body. Each becomes a StorageError naming the
// store, within the configured timeouts (bounds here are generous hang bounds, not timings).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StorageError } from '../../../../src/ufs/errors.js';
import { S3Ufs } from '../../../../src/ufs/s3/s3Ufs.js';

type Mode = 'ok' | 'silent' | '500' | 'slowdown' | 'denied' | 'cut';

describe('S3 adapter: store faults', () => {
  let server: Server;
  let mode: Mode = 'ok';
  let endpoint: string;
  let workDir: string;
  const open: S3Ufs[] = [];

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    const error = (status: number, code: string) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
    };
    switch (mode) {
      case 'silent':
        return; // never answers
      case '500':
        return error(500, 'InternalError');
      case 'slowdown':
        return error(503, 'SlowDown');
      case 'denied':
        return error(403, 'AccessDenied');
      case 'cut':
        if (req.method === 'GET' && !req.url?.includes('list-type')) {
          res.writeHead(200, { 'content-length': '1000', etag: '"abc"', 'last-modified': new Date().toUTCString() });
          res.write(Buffer.alloc(10));
          setTimeout(() => res.destroy(), 50);
          return;
        }
        break;
      default:
        break;
    }
    res.writeHead(200, { 'content-type': 'application/xml' });
    res.end('<?xml version="1.0"?><ListBucketResult><Name>b</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>');
  };

  before(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'strata-s3-faults-'));
    server = createServer(handle);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });

  after(async () => {
    for (const u of open) await u.close();
    server.closeAllConnections();
    await new Promise((res) => server.close(res));
    rmSync(workDir, { recursive: true, force: true });
  });

  const ufs = async () => {
    mode = 'ok';
    const u = await S3Ufs.open('s3://b/p/', {
      's3a.accessKeyId': 'k', 's3a.secretKey': 's', 'underfs.s3.endpoint': endpoint, 'underfs.s3.disable.dns.buckets': 'true',
      'underfs.s3.request.timeout': '1s', 'underfs.s3.socket.timeout': '1s', 'underfs.s3.max.error.retry': '0',
    }, { workDir });
    open.push(u);
    return u;
  };

  const failsWith = async (p: Promise<unknown>, kind: string) => {
    const started = Date.now();
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof StorageError, `a StorageError, got ${String(e)}`);
      assert.equal(e.kind, kind, e.message);
      assert.match(e.message, /s3:\/\/b\/p\//, 'the message names the store');
      return true;
    });
    assert.ok(Date.now() - started < 10_000, 'answered within 10 s');
  };

  test('5xx is Unavailable, SlowDown is SlowDown, 403 is Denied', async () => {
    const u = await ufs();
    mode = '500';
    await failsWith(u.stat('k'), 'Unavailable');
    await failsWith(u.list({ prefix: '', delimiter: '', after: '', maxKeys: 10 }), 'Unavailable');
    mode = 'slowdown';
    await failsWith(u.read('k', () => null), 'SlowDown');
    mode = 'denied';
    await failsWith(u.delete('k'), 'Denied');
  });

  test('a store that never answers is bounded by the request timeout', async () => {
    const u = await ufs();
    mode = 'silent';
    await failsWith(u.stat('k'), 'Unavailable');
    await failsWith(u.read('k', () => null), 'Unavailable');
    await failsWith(u.isEmpty(), 'Unavailable');
  });

  test('a body cut short fails the stream with an error naming the store', async () => {
    const u = await ufs();
    mode = 'cut';
    const r = await u.read('k', () => null);
    assert.ok(r);
    await assert.rejects(async () => {
      for await (const _ of r.body) { /* drain */ }
    }, (e: Error) => e instanceof StorageError && e.kind === 'Unavailable' && /s3:\/\/b\/p\//.test(e.message));
  });

  test('opening a mount whose store does not answer fails', async () => {
    mode = 'silent';
    await failsWith(S3Ufs.open('s3://b/', { 'underfs.s3.endpoint': endpoint, 'underfs.s3.disable.dns.buckets': 'true', 'underfs.s3.request.timeout': '1s', 's3a.accessKeyId': 'k', 's3a.secretKey': 's' }, { workDir })
      .catch((e: StorageError) => {
        throw new StorageError(e.kind, `${e.message} (s3://b/p/)`);
      }), 'Unavailable');
  });
});
