// Shared helpers of the request-body tests: framing builders and a pipeline runner.
import assert from 'node:assert/strict';
import { Readable, type Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { S3Error } from '../../../../src/s3/errors.js';

export const SIG1 = 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';
export const SIG2 = '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497';
export const SIG3 = 'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9';

/** A signed aws-chunked body: each chunk with a chunk-signature, then the final chunk and trailers. */
export function signedBody(chunks: Array<string | Buffer>, sigs: string[] = [], trailers: string[] = []): Buffer {
  const parts: Buffer[] = [];
  chunks.forEach((c, i) => {
    const data = Buffer.from(c);
    parts.push(Buffer.from(`${data.length.toString(16)};chunk-signature=${sigs[i] ?? SIG1}\r\n`), data, Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`0;chunk-signature=${sigs[chunks.length] ?? SIG3}\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

/** An unsigned aws-chunked body (STREAMING-UNSIGNED-PAYLOAD-TRAILER) with its trailer lines. */
export function unsignedBody(chunks: Array<string | Buffer>, trailers: string[]): Buffer {
  const parts: Buffer[] = [];
  for (const c of chunks) {
    const data = Buffer.from(c);
    parts.push(Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

/** Every way to cut a body in two, plus byte by byte. */
export function* splits(body: Buffer): Generator<Buffer[]> {
  for (let cut = 0; cut <= body.length; cut++) yield [body.subarray(0, cut), body.subarray(cut)];
  yield [...body].map((b) => Buffer.from([b]));
}

/** Feeds the pieces through the transforms; resolves with what came out. */
export async function run(pieces: Buffer[], streams: Transform[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, done) {
      out.push(c);
      done();
    },
  });
  // Readable.from would merge nothing, but skip empty pieces so each write is a real read.
  await pipeline([Readable.from(pieces.filter((p) => p.length > 0)), ...streams, sink]);
  return Buffer.concat(out);
}

/** The S3 error code a promise (or function) fails with, or 'none'. */
export async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'none';
  } catch (e) {
    assert.ok(e instanceof S3Error, `not an S3Error: ${String(e)}`);
    return e.code;
  }
}

/** The S3Error a promise fails with. */
export async function errorOf(p: Promise<unknown>): Promise<S3Error> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof S3Error, `not an S3Error: ${String(e)}`);
    return e;
  }
  assert.fail('expected an S3Error');
}
