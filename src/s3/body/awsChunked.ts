// Decoding `Content-Encoding: aws-chunked` bodies as they flow:
//   signed:   <hex size>;chunk-signature=<64 hex>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n[trailers]\r\n
//   unsigned: <hex size>\r\n<data>\r\n ... 0\r\n<name>:<value>\r\n[x-amz-trailer-signature:<sig>\r\n]\r\n
// Data bytes pass through as subarrays of the incoming chunks (never copied); framing may be
// split across reads at any byte, and only a framing line that is split is copied (into a small
// scratch buffer). Trailers (x-amz-checksum-*) are collected in `trailers` and announced by a
// 'trailers' event, both before the readable side ends: a verifier further down the pipe reads
// them in its own _flush, which runs after this stream has pushed its end.
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from '../errors.js';

/** Longest chunk-size line, CRLF included. */
export const MAX_CHUNK_SIZE_LINE = 4096;
/** Largest trailer section, every line and CRLF included. */
export const MAX_TRAILER_SECTION = 16 * 1024;

const CR = 0x0d;
const LF = 0x0a;

const enum State {
  Size,
  Data,
  DataCr,
  DataLf,
  Trailer,
  Done,
}

export interface AwsChunkedOptions {
  /** x-amz-decoded-content-length: the body must decode to exactly this many bytes. */
  expectedDecodedLength?: number;
  /**
   * Called once per signed chunk, when its data and CRLF have arrived, with its chunk-signature
   * (lower-case hex) and its data (the subarrays passed on); the final zero-size chunk comes
   * with []. For signature verification: a throw fails the stream with that error.
   */
  onChunkSignature?: (signature: string, chunk: Buffer[]) => void;
  /** Every chunk must carry a chunk-signature (the STREAMING-AWS4-* modes). */
  signed?: boolean;
}

export class AwsChunkedDecoder extends Transform {
  /** Trailing headers by lower-case name; complete when 'trailers' is emitted (before 'end'). */
  readonly trailers: Record<string, string> = {};
  private state = State.Size;
  /** Bytes still to come of the current chunk's data. */
  private remaining = 0;
  private decoded = 0;
  private trailerBytes = 0;
  /** A framing line split across reads, copied here until its LF arrives. */
  private scratch: Buffer | null = null;
  private scratchLen = 0;
  private signature = '';
  private chunkData: Buffer[] = [];
  private readonly expected?: number;

  constructor(private readonly options: AwsChunkedOptions = {}) {
    super();
    const e = options.expectedDecodedLength;
    if (e !== undefined && (!Number.isSafeInteger(e) || e < 0)) throw new TypeError(`bad expectedDecodedLength ${e}`);
    this.expected = e;
  }

  /** Data bytes passed on so far. */
  get decodedLength(): number {
    return this.decoded;
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
    // A body may end right after its last trailer line (or the final chunk's line) without the
    // closing empty line; a declared trailer that never came is the verifier's to refuse.
    if (this.state === State.Trailer && this.scratchLen === 0) this.state = State.Done;
    if (this.state !== State.Done) {
      return done(new S3Error('IncompleteBody', `The aws-chunked body ended before its final chunk (after ${this.decoded} data bytes).`));
    }
    if (this.expected !== undefined && this.decoded !== this.expected) {
      // Only short is possible here: long is refused as soon as a chunk header says so.
      return done(new S3Error('IncompleteBody', `The body decoded to ${this.decoded} bytes; x-amz-decoded-content-length is ${this.expected}.`));
    }
    try {
      this.emit('trailers', this.trailers);
    } catch (e) {
      return done(e as Error);
    }
    done();
  }

  private consume(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.Data: {
          const take = Math.min(this.remaining, n - i);
          const part = buf.subarray(i, i + take);
          i += take;
          this.remaining -= take;
          this.decoded += take;
          if (this.options.onChunkSignature) this.chunkData.push(part);
          if (this.remaining === 0) this.state = State.DataCr;
          this.push(part);
          break;
        }
        case State.Size: {
          const end = this.takeLine(buf, i, MAX_CHUNK_SIZE_LINE, 'a chunk-size line is longer than 4 KiB');
          if (end < 0) return;
          this.startChunk(this.lineText(buf, i, end));
          i = end;
          break;
        }
        case State.DataCr:
          if (buf[i++] !== CR) throw malformed(`chunk data must be followed by CRLF (${this.decoded} data bytes in)`);
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (buf[i++] !== LF) throw malformed(`chunk data must be followed by CRLF (${this.decoded} data bytes in)`);
          this.state = State.Size;
          this.endChunk();
          break;
        case State.Trailer: {
          const end = this.takeLine(buf, i, MAX_TRAILER_SECTION - this.trailerBytes, 'the trailer section is larger than 16 KiB');
          if (end < 0) return;
          const line = this.lineText(buf, i, end);
          this.trailerBytes += line.length + 2;
          i = end;
          if (line === '') {
            this.state = State.Done;
            break;
          }
          const colon = line.indexOf(':');
          const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
          if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) throw malformed('a trailer line is not "name:value"');
          this.trailers[name] = line.slice(colon + 1).trim();
          break;
        }
        case State.Done:
          // Stray line ends after the closing empty line are tolerated; anything else is not.
          for (; i < n; i++) if (buf[i] !== CR && buf[i] !== LF) throw malformed('data follows the final chunk');
          return;
      }
    }
  }

  /**
   * Looks for the LF ending the current line from `from`. Returns the index after it, or -1
   * when the line goes on past this read (its bytes are then kept in the scratch buffer).
   * `max` bounds the whole line, CRLF included; past it the body is refused with `tooLong`.
   */
  private takeLine(buf: Buffer, from: number, max: number, tooLong: string): number {
    const room = max - this.scratchLen;
    const lf = buf.indexOf(LF, from);
    const len = (lf < 0 ? buf.length : lf + 1) - from;
    if (len > room) throw malformed(tooLong);
    if (lf >= 0 && this.scratchLen === 0) return lf + 1;
    if (!this.scratch || this.scratch.length < this.scratchLen + len) {
      const grown = Buffer.allocUnsafe(Math.max(256, 2 * (this.scratchLen + len)));
      if (this.scratch) this.scratch.copy(grown, 0, 0, this.scratchLen);
      this.scratch = grown;
    }
    buf.copy(this.scratch, this.scratchLen, from, from + len);
    this.scratchLen += len;
    return lf < 0 ? -1 : lf + 1;
  }

  /** The line just completed by takeLine (without its CRLF), as latin1 text. */
  private lineText(buf: Buffer, from: number, end: number): string {
    let raw: Buffer;
    if (this.scratchLen > 0) {
      raw = this.scratch!.subarray(0, this.scratchLen);
      this.scratchLen = 0;
    } else {
      raw = buf.subarray(from, end);
    }
    if (raw.length < 2 || raw[raw.length - 2] !== CR) throw malformed('a framing line must end with CRLF');
    return raw.toString('latin1', 0, raw.length - 2);
  }

  private startChunk(header: string): void {
    const semi = header.indexOf(';');
    const sizeText = (semi < 0 ? header : header.slice(0, semi)).trim();
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`"${printable(sizeText)}" is not a hexadecimal chunk size`);
    const size = Number.parseInt(sizeText, 16);
    if (!Number.isSafeInteger(size)) throw malformed('the chunk size is too large');
    this.signature = '';
    if (semi >= 0) {
      for (const ext of header.slice(semi + 1).split(';')) {
        const eq = ext.indexOf('=');
        const name = (eq < 0 ? ext : ext.slice(0, eq)).trim();
        if (name === '') throw malformed('an empty chunk extension');
        if (name.toLowerCase() !== 'chunk-signature') continue;
        const value = eq < 0 ? '' : ext.slice(eq + 1).trim();
        if (!/^[0-9a-fA-F]{64}$/.test(value)) throw malformed('chunk-signature must be 64 hexadecimal digits');
        this.signature = value.toLowerCase();
      }
    }
    if (this.options.signed && !this.signature) throw malformed('a chunk of a signed stream has no chunk-signature');
    if (this.expected !== undefined && this.decoded + size > this.expected) {
      throw new S3Error(
        'InvalidRequest',
        `The aws-chunked body holds more than the ${this.expected} bytes of its x-amz-decoded-content-length.`,
      );
    }
    if (size === 0) {
      this.endChunk();
      this.state = State.Trailer;
      return;
    }
    this.remaining = size;
    this.state = State.Data;
  }

  private endChunk(): void {
    const hook = this.options.onChunkSignature;
    if (!hook) return;
    const data = this.chunkData;
    this.chunkData = [];
    if (this.signature) hook(this.signature, data);
  }
}

function malformed(why: string): S3Error {
  return new S3Error('InvalidRequest', `The aws-chunked body is malformed: ${why}.`);
}

function printable(s: string): string {
  return s.slice(0, 40).replace(/[^\x20-\x7e]/g, '?');
}
