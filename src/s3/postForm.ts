// Reading a browser-based upload's multipart/form-data body (POST Object) up to its file: the
// fields before it, then the file as a stream that has not been read yet, so that the policy and
// the signature are checked before a byte of the file is stored. Fields after the file are
// ignored, as S3 does. Parsing is busboy's.
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import busboy from 'busboy';
import { S3Error } from './errors.js';

/** The most bytes of fields before the file (S3 allows 20 KB; we are a little kinder). */
export const MAX_FORM_FIELDS_BYTES = 64 * 1024;
const PART_OVERHEAD_BYTES = 64;

export interface PostForm {
  /** Fields by lower-case name (the first of a name wins), values as sent. */
  fields: Map<string, string>;
  /** The file part's content; read it to take the bytes. */
  file: Readable;
  /** The file name the part gave (for `${filename}` in the key); '' when none. */
  filename: string;
}

/** Parses up to the field named `file`; MalformedPOSTRequest, MaxPostPreDataLengthExceededError or IncorrectNumberOfFilesInPostRequest when the form is not one. */
export function readPostForm(req: IncomingMessage): Promise<PostForm> {
  return new Promise<PostForm>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fieldSize: MAX_FORM_FIELDS_BYTES, fieldNameSize: 1024 } });
    } catch {
      reject(new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data (no boundary).'));
      return;
    }
    const fields = new Map<string, string>();
    let preDataBytes = 0;
    let settled = false;
    let fileSeen = false;
    // A field sent as a file part (some clients send every field so) is read to its end before the
    // file is handed over, so that the fields are complete by then.
    let queue = Promise.resolve();
    const fail = (e: S3Error) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      reject(e);
    };
    const addField = (name: string, value: string, truncated: boolean) => {
      // Boundaries and part headers count too, as S3 counts them (about this much a part).
      preDataBytes += Buffer.byteLength(name) + Buffer.byteLength(value) + PART_OVERHEAD_BYTES;
      if (truncated || preDataBytes > MAX_FORM_FIELDS_BYTES) return fail(new S3Error('MaxPostPreDataLengthExceededError', undefined, { fields: { MaxPostPreDataLength: String(MAX_FORM_FIELDS_BYTES) } }));
      const key = name.toLowerCase();
      if (!fields.has(key)) fields.set(key, value);
    };
    parser.on('field', (name, value, info) => {
      if (fileSeen) return;
      // A file sent as text (a textarea, `curl -F file=text`): its content is the object.
      if (name.toLowerCase() === 'file') return onFile(Readable.from([Buffer.from(value, 'utf8')]), '');
      addField(name, value, info.valueTruncated || info.nameTruncated);
    });
    parser.on('file', (name, stream, info) => {
      stream.on('error', () => undefined); // seen through onFile's stream, or of a part dropped
      if (fileSeen) {
        stream.resume(); // a part after the file: ignored
        return;
      }
      if (name.toLowerCase() === 'file') return onFile(stream, info.filename ?? '');
      queue = queue.then(() => textOf(stream, MAX_FORM_FIELDS_BYTES + 1).then((text) => addField(name, text, Buffer.byteLength(text) > MAX_FORM_FIELDS_BYTES)));
    });
    const malformed = (e: Error) => new S3Error('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data (${e.message}).`);
    const onFile = (part: Readable, filename: string) => {
      fileSeen = true;
      // The file as its reader sees it: failing with an S3 error when the form or the request does
      // (cut short, no closing boundary), so that a writer never waits forever nor answers 500.
      const file = new PassThrough();
      file.on('error', () => undefined); // kept for the reader: a pipeline sees an errored stream
      const cut = (e: S3Error) => {
        if (!file.writableFinished) file.destroy(e);
      };
      part.on('error', (e) => cut(e instanceof S3Error ? e : malformed(e)));
      part.pipe(file);
      parser.on('error', (e: Error) => cut(malformed(e)));
      req.once('error', (e) => cut(e instanceof S3Error ? e : new S3Error('IncompleteBody')));
      req.once('close', () => {
        if (!req.complete) cut(new S3Error('IncompleteBody'));
      });
      queue = queue.then(() => {
        if (settled) return void file.resume();
        settled = true;
        resolve({ fields, file, filename });
      });
    };
    parser.on('error', (e: Error) => fail(malformed(e)));
    parser.on('close', () => void queue.then(() => fail(new S3Error('IncorrectNumberOfFilesInPostRequest', 'POST requires exactly one file upload per request: a field named "file".'))));
    req.on('error', (e) => fail(e instanceof S3Error ? e : new S3Error('IncompleteBody')));
    req.pipe(parser);
  });
}

/** A part's content as text, reading at most `limit` bytes of it (the rest is dropped). */
async function textOf(stream: Readable, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (size < limit) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, limit);
}
