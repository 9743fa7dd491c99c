// Decoding `Content-Encoding: aws-chunked` bodies as data flows:
//   signed:   <hex size>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n[trailers]\r\n
//   unsigned: <hex size>\r\n<data>\r\n ... 0\r\n<name>:<value>\r\n...\r\n
// Data bytes pass through as subarrays of the incoming chunks (no copies); framing may be split
// across reads at any byte. Trailers (x-amz-checksum-*) are collected for the verifier, which
// reads them in its own flush, after this stream ended.
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';

const MAX_SIZE_LINE = 4096;
const MAX_TRAILER_BYTES = 16 * 1024;
const CR = 0x0d;
const LF = 0x0a;

type State = 'size' | 'data' | 'data-crlf' | 'trailer' | 'done';

export interface AwsChunkedOptions {
  /** x-amz-decoded-content-length: the object's size; a body decoding to another size is refused. */
  expectedDecodedLength?: number;
  /** Called with each chunk's signature and its data (for signature checks). */
  onChunkSignature?: (signature: string, data: Buffer[]) => void;
}

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers (lower-case names), complete once the stream ended. */
  readonly trailers: Record<string, string> = {};
  private state: State = 'size';
  /** Bytes of a size line or trailer line not yet ended by CRLF. */
  private line: Buffer[] = [];
  private lineBytes = 0;
  private trailerBytes = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private decoded = 0;
  private signature = '';
  private chunkData: Buffer[] = [];

  constructor(private readonly options: AwsChunkedOptions = {}) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (e) {
      done(e as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    // A stream that ends right after the last chunk's line, with no trailer section, is accepted.
    if (this.state === 'trailer' && this.lineBytes === 0 && this.trailerBytes === 0) this.state = 'done';
    if (this.state !== 'done') {
      return done(new S3Error('IncompleteBody', 'The aws-chunked body ended before its final chunk.'));
    }
    const expected = this.options.expectedDecodedLength;
    if (expected !== undefined && this.decoded !== expected) {
      return done(
        this.decoded < expected
          ? new S3Error('IncompleteBody', `The body decoded to ${this.decoded} bytes; x-amz-decoded-content-length is ${expected}.`)
          : new S3Error('InvalidRequest', `The body decoded to ${this.decoded} bytes, more than x-amz-decoded-content-length ${expected}.`),
      );
    }
    done();
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'size': {
          const end = this.takeLine(buf, i, MAX_SIZE_LINE);
          if (end < 0) return;
          i = end;
          this.startChunk(this.finishLine());
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, buf.length - i);
          const part = buf.subarray(i, i + n);
          this.push(part);
          if (this.options.onChunkSignature) this.chunkData.push(part);
          this.remaining -= n;
          this.decoded += n;
          i += n;
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          const want = this.crlfSeen === 0 ? CR : LF;
          if (buf[i] !== want) throw malformed('a chunk\'s data must be followed by CRLF');
          i++;
          if (++this.crlfSeen === 2) {
            this.crlfSeen = 0;
            this.state = 'size';
          }
          break;
        }
        case 'trailer': {
          const end = this.takeLine(buf, i, MAX_TRAILER_BYTES);
          if (end < 0) return;
          i = end;
          const line = this.finishLine();
          this.trailerBytes += line.length + 2;
          if (this.trailerBytes > MAX_TRAILER_BYTES) throw malformed('the trailer section is too large');
          if (line === '') {
            this.state = 'done';
            break;
          }
          const colon = line.indexOf(':');
          if (colon <= 0) throw malformed(`a trailer line is not "name:value"`);
          this.trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
          break;
        }
        case 'done':
          if (buf.subarray(i).every((b) => b === CR || b === LF)) return;
          throw malformed('data follows the final chunk');
      }
    }
  }

  /** Appends bytes up to a CRLF to the current line; returns the index after the LF, or -1 when the line goes on. */
  private takeLine(buf: Buffer, from: number, max: number): number {
    const lf = buf.indexOf(LF, from);
    const end = lf < 0 ? buf.length : lf + 1;
    this.line.push(buf.subarray(from, end));
    this.lineBytes += end - from;
    if (this.lineBytes > max) throw malformed('a chunk header line is too long');
    return lf < 0 ? -1 : end;
  }

  private finishLine(): string {
    const raw = this.line.length === 1 ? this.line[0] : Buffer.concat(this.line);
    this.line = [];
    this.lineBytes = 0;
    if (raw.length < 2 || raw[raw.length - 2] !== CR) throw malformed('a line must end with CRLF');
    return raw.subarray(0, raw.length - 2).toString('latin1');
  }

  private startChunk(header: string): void {
    if (this.options.onChunkSignature && this.signature) this.options.onChunkSignature(this.signature, this.chunkData);
    this.chunkData = [];
    const semi = header.indexOf(';');
    const sizeText = (semi < 0 ? header : header.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`"${sizeText.slice(0, 40)}" is not a hexadecimal chunk size`);
    const size = Number.parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw malformed('the chunk size is too large');
    this.signature = '';
    if (semi >= 0) {
      const ext = header.slice(semi + 1).trim();
      const m = /^chunk-signature=([0-9a-f]{64})$/.exec(ext);
      if (!m) throw malformed('the chunk extension must be chunk-signature=<64 hex digits>');
      this.signature = m[1];
    }
    if (size === 0) {
      if (this.options.onChunkSignature && this.signature) this.options.onChunkSignature(this.signature, []);
      this.state = 'trailer';
      return;
    }
    this.remaining = size;
    this.state = 'data';
  }
}

function malformed(why: string): S3Error {
  return new S3Error('InvalidRequest', `The aws-chunked body is malformed: ${why}.`);
}
