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
/** Boundaries and part headers count too, as S3 counts them (about this much a part). */
const PART_OVERHEAD_BYTES = 64;
/** The largest file sent as a text field (a textarea) rather than as a file part. */
export const MAX_TEXT_FILE_BYTES = 1024 * 1024;

export interface PostForm {
  /** Fields by lower-case name (the first of a name wins), values as UTF-8 text. */
  fields: Map<string, string>;
  /** The file part's content; read it to take the bytes. */
  file: Readable;
  /** The file name the part gave (for `${filename}`); '' when none. */
  filename: string;
}

/** Parses up to the field named `file`; MalformedPOSTRequest, MaxPostPreDataLengthExceededError or IncorrectNumberOfFilesInPostRequest when the form is not one. */
export function readPostForm(req: IncomingMessage): Promise<PostForm> {
  return new Promise<PostForm>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // Field values arrive as Latin-1, byte for byte: text is decoded here, a text file kept as sent.
      parser = busboy({ headers: req.headers, defCharset: 'latin1', limits: { fieldSize: MAX_TEXT_FILE_BYTES, fieldNameSize: 1024 } });
    } catch {
      reject(new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data (no boundary).'));
      return;
    }
    const fields = new Map<string, string>();
    let preDataBytes = 0;
    let settled = false;
    let fileSeen = false;
    // Parts are taken in order: a field sent as a file part (some clients send every field so) is
    // read to its end before the next part counts, and before the file is handed over. No step of
    // the queue rejects: a failure settles the form instead.
    let queue = Promise.resolve();
    const inOrder = (step: () => void | Promise<void>) => {
      queue = queue.then(step).catch((e: unknown) => fail(e instanceof S3Error ? e : malformed(e as Error)));
    };
    const fail = (e: S3Error) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      reject(e);
    };
    const tooMuch = () => new S3Error('MaxPostPreDataLengthExceededError', undefined, { fields: { MaxPostPreDataLength: String(MAX_FORM_FIELDS_BYTES) } });
    const malformed = (e: Error) => new S3Error('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data (${e.message}).`);
    const addField = (name: string, value: Buffer) => {
      if (settled) return;
      preDataBytes += Buffer.byteLength(name) + value.length + PART_OVERHEAD_BYTES;
      if (preDataBytes > MAX_FORM_FIELDS_BYTES) return fail(tooMuch());
      const key = name.toLowerCase();
      if (!fields.has(key)) fields.set(key, value.toString('utf8'));
    };
    parser.on('field', (name, value, info) => {
      if (fileSeen) return;
      const bytes = Buffer.from(value, 'latin1');
      if (name.toLowerCase() === 'file') {
        // A file sent as text (a textarea, `curl -F file=text`): its bytes are the object.
        if (info.valueTruncated) return inOrder(() => fail(new S3Error('EntityTooLarge', `A file sent as a form field may hold ${MAX_TEXT_FILE_BYTES} bytes; send a file part.`)));
        return onFile(Readable.from([bytes]), '');
      }
      if (info.valueTruncated || info.nameTruncated) return inOrder(() => fail(tooMuch()));
      inOrder(() => addField(name, bytes));
    });
    parser.on('file', (name, part, info) => {
      part.on('error', () => undefined); // seen through onFile's stream, or the part's reader
      if (fileSeen || settled) {
        part.resume(); // a part after the file: ignored
        return;
      }
      if (name.toLowerCase() === 'file') return onFile(part, info.filename ?? '');
      inOrder(async () => addField(name, await bytesOf(part, MAX_FORM_FIELDS_BYTES - preDataBytes, tooMuch)));
    });
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
      inOrder(() => {
        if (settled) return void file.destroy();
        settled = true;
        resolve({ fields, file, filename });
      });
    };
    parser.on('error', (e: Error) => inOrder(() => fail(malformed(e))));
    parser.on('close', () => inOrder(() => fail(new S3Error('IncorrectNumberOfFilesInPostRequest', 'POST requires exactly one file upload per request: a field named "file".'))));
    req.on('error', (e) => fail(e instanceof S3Error ? e : new S3Error('IncompleteBody')));
    req.pipe(parser);
  });
}

/** A part's bytes, refused (and the part dropped) as soon as they pass `limit`. */
async function bytesOf(part: Readable, limit: number, tooMuch: () => S3Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of part as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      part.destroy();
      throw tooMuch();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
