// The body of a file read: a Readable for any consumer, and a faster `sendTo` for an HTTP
// response. sendTo reads with pread into 1 MiB buffers taken from a small pool and gives each
// back once the socket has taken its bytes: no allocation per chunk (fresh large buffers cost
// page faults) and a working set that stays in cache. Measured on the GET path it is what
// closes most of the gap to nginx's sendfile at 1 MiB.
import { close, read } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { promisify } from 'node:util';

const readFd = promisify(read);
const closeFd = promisify(close);

const CHUNK = 1024 * 1024;
/** Idle buffers kept for reuse; beyond this they are left to the garbage collector. */
const POOL_LIMIT = 32;
const pool: Buffer[] = [];

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK);
}

function giveBack(buf: Buffer): void {
  if (pool.length < POOL_LIMIT) pool.push(buf);
}

/** A body that can write itself to a response faster than piping a stream. */
export interface SendableBody {
  sendTo(out: Writable): Promise<void>;
}

export function isSendable(body: unknown): body is SendableBody {
  return typeof (body as SendableBody).sendTo === 'function';
}

/** Bytes [start, end] of an open file descriptor, which it owns and closes. */
export class FileRangeBody extends Readable implements SendableBody {
  private position: number;
  private fdClosed = false;
  /** The read of `_read` in flight, if any. */
  private reading: Promise<unknown> | undefined;

  constructor(private readonly fd: number, start: number, private readonly last: number) {
    super({ highWaterMark: CHUNK });
    this.position = start;
  }

  override _read(size: number): void {
    const length = Math.min(Math.max(size, CHUNK), this.last - this.position + 1);
    if (length <= 0) {
      this.push(null);
      return;
    }
    // Pushed buffers belong to the consumer: fresh ones here, never pooled.
    const buf = Buffer.allocUnsafe(length);
    const reading = readFd(this.fd, buf, 0, length, this.position);
    this.reading = reading;
    reading.then(
      ({ bytesRead }) => {
        if (bytesRead === 0) return this.destroy(new Error('the file ended before its size (truncated while read)'));
        this.position += bytesRead;
        this.push(bytesRead === length ? buf : buf.subarray(0, bytesRead));
      },
      (e) => this.destroy(e),
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Not while a read is in flight: it would read whatever file took the fd's number by then.
    const idle = this.reading?.then(() => undefined, () => undefined) ?? Promise.resolve();
    idle.then(() => this.closeFd()).then(() => callback(error), (e) => callback(error ?? e));
  }

  private async closeFd(): Promise<void> {
    if (this.fdClosed) return;
    this.fdClosed = true;
    await closeFd(this.fd);
  }

  async sendTo(out: Writable): Promise<void> {
    try {
      while (this.position <= this.last) {
        if (out.destroyed) throw new Error('the client went away');
        const buf = takeBuffer();
        const length = Math.min(CHUNK, this.last - this.position + 1);
        const reading = readFd(this.fd, buf, 0, length, this.position);
        this.reading = reading;
        const { bytesRead } = await reading;
        if (bytesRead === 0) throw new Error('the file ended before its size (truncated while read)');
        this.position += bytesRead;
        const done = this.position > this.last;
        const chunk = bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
        // The callback runs once the socket took the bytes: then the buffer is free again.
        const more = out.write(chunk, (err) => {
          if (!err) giveBack(buf);
        });
        if (!more && !done) await drained(out);
      }
      out.end();
    } finally {
      this.destroy();
    }
  }
}

/** Resolves when `out` can take more; rejects when it closed first (the client went away). */
export function drained(out: Writable): Promise<void> {
  // Gone already (during the read before this write): its 'close' may have fired, and will not again.
  if (out.destroyed) return Promise.reject(new Error('the client went away'));
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      out.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      out.off('drain', onDrain);
      reject(new Error('the client went away'));
    };
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}
