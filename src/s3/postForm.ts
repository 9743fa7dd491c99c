// Reading a browser-based upload's multipart/form-data body (POST Object) up to its file: the
// fields before it, then the file as a stream that has not been read yet, so that the policy and
// the signature are checked before a byte of the file is stored. Fields after the file are
// ignored, as S3 does. Parsing is busboy's.
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { S3Error } from './errors.js';

/** The most bytes of fields before the file (S3 allows 20 KB; we are a little kinder). */
export const MAX_FORM_FIELDS_BYTES = 64 * 1024;

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
      parser = busboy({ headers: req.headers, limits: { fieldSize: MAX_FORM_FIELDS_BYTES, fieldNameSize: 1024, files: 1000, fields: 1000 } });
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
      preDataBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
      if (truncated || preDataBytes > MAX_FORM_FIELDS_BYTES) return fail(new S3Error('MaxPostPreDataLengthExceededError', undefined, { fields: { MaxPostPreDataLength: String(MAX_FORM_FIELDS_BYTES) } }));
      const key = name.toLowerCase();
      if (!fields.has(key)) fields.set(key, value);
    };
    parser.on('field', (name, value, info) => {
      if (!fileSeen) addField(name, value, info.valueTruncated || info.nameTruncated);
    });
    parser.on('file', (name, stream, info) => {
      if (fileSeen) {
        stream.resume(); // a part after the file: ignored
        return;
      }
      if (name.toLowerCase() === 'file') {
        fileSeen = true;
        // The file fails if the form or the request does: a writer reading it must not wait forever.
        const cut = (e: S3Error) => {
          if (!stream.readableEnded) stream.destroy(e);
        };
        parser.on('error', (e: Error) => cut(new S3Error('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data (${e.message}).`)));
        req.once('error', (e) => cut(e instanceof S3Error ? e : new S3Error('IncompleteBody')));
        req.once('close', () => {
          if (!req.complete) cut(new S3Error('IncompleteBody'));
        });
        queue = queue.then(() => {
          if (settled) return void stream.resume();
          settled = true;
          resolve({ fields, file: stream, filename: info.filename ?? '' });
        });
        return;
      }
      queue = queue.then(() => textOf(stream, MAX_FORM_FIELDS_BYTES + 1).then((text) => addField(name, text, Buffer.byteLength(text) > MAX_FORM_FIELDS_BYTES)));
    });
    parser.on('error', (e: Error) => fail(new S3Error('MalformedPOSTRequest', `The body of your POST request is not well-formed multipart/form-data (${e.message}).`)));
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
