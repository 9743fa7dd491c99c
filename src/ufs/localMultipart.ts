// Multipart uploads on a folder mount. Parts are staged inside the mount, in
// `.strata.sys/uploads/<uploadId>/` (same filesystem, never listed): `upload.json` describes the
// upload, `<nnnnn>-<uuid>.part` holds a part's bytes and `<nnnnn>.json` points at the current one
// (replaced atomically, so a part uploaded twice keeps the last). Complete joins the parts into a
// temporary file that becomes the object with one rename, exactly as a PUT does.
import { randomUUID } from 'node:crypto';
import { close, fdatasync, fstat, open, promises as fsp, read, type Stats, write } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StorageError } from './errors.js';
import type { BodySource, ChangeCheck, MultipartStorage, ObjectMeta, ObjectStatus, PartInfo, UploadInfo, WrittenObject } from './ufs.js';
import { newUploadId, type PartRecord, partRecordName, readJson, readPartRecords, toPartInfo, UPLOAD_ID, writeJsonAtomic } from './uploadIndex.js';

const openFd = promisify(open);
const closeFd = promisify(close);
const readFd = promisify(read);
const writeFd = promisify(write);
const fdatasyncFd = promisify(fdatasync);
const fstatFd = promisify(fstat) as (fd: number) => Promise<Stats>;

/** Bytes copied per read/write while joining parts. */
const JOIN_BUFFER = 8 * 1024 * 1024;
interface StoredPart extends PartRecord {
  /** Data file name inside the upload folder. */
  file: string;
}

interface StoredUpload extends Omit<UploadInfo, 'initiated'> {
  initiated: string;
}

/** What the folder adapter lends multipart: its temporary files and its commit step. */
export interface LocalFileSteps {
  newTempPath(): string;
  streamToFile(path: string, body: BodySource): Promise<Stats>;
  commitFile(key: string, tmp: string, st: Stats, written: WrittenObject, check?: ChangeCheck): Promise<ObjectStatus>;
  /** Throws for a key the folder cannot hold (checked when the upload starts, not at Complete). */
  checkKey(key: string): void;
  readonly fsync: boolean;
}

export class LocalMultipart implements MultipartStorage {
  constructor(private readonly uploadsDir: string, private readonly files: LocalFileSteps) {}

  private dirOf(uploadId: string): string {
    return join(this.uploadsDir, uploadId);
  }

  async createUpload(key: string, meta: ObjectMeta, checksum?: { algorithm: string; type: 'COMPOSITE' | 'FULL_OBJECT' }): Promise<UploadInfo> {
    const checksumAlgorithm = checksum?.algorithm;
    const checksumType = checksum?.type;
    this.files.checkKey(key);
    const uploadId = newUploadId();
    const dir = this.dirOf(uploadId);
    await fsp.mkdir(dir, { recursive: true });
    const initiated = new Date();
    const stored: StoredUpload = { uploadId, key, initiated: initiated.toISOString(), meta, checksumAlgorithm, checksumType };
    await writeJsonAtomic(join(dir, 'upload.json'), stored);
    return { uploadId, key, initiated, meta, checksumAlgorithm, checksumType };
  }

  async getUpload(uploadId: string): Promise<UploadInfo | null> {
    if (!UPLOAD_ID.test(uploadId)) return null;
    try {
      const dir = this.dirOf(uploadId);
      const stored = JSON.parse(await fsp.readFile(join(dir, 'upload.json'), 'utf8')) as StoredUpload;
      // The folder's mtime moves whenever a part file is added.
      const lastActivity = (await fsp.stat(dir)).mtime;
      return { ...stored, initiated: new Date(stored.initiated), lastActivity };
    } catch {
      return null;
    }
  }

  async listUploads(): Promise<UploadInfo[]> {
    let ids: string[];
    try {
      ids = await fsp.readdir(this.uploadsDir);
    } catch {
      return [];
    }
    const uploads = await Promise.all(ids.map((id) => this.getUpload(id)));
    return uploads.filter((u): u is UploadInfo => u !== null);
  }

  async writePart(
    upload: UploadInfo,
    partNumber: number,
    body: BodySource,
    describe: () => { etag: string; checksums: Record<string, string> },
  ): Promise<PartInfo> {
    const dir = this.dirOf(upload.uploadId);
    const n = String(partNumber).padStart(5, '0');
    const file = `${n}-${randomUUID()}.part`;
    let st: Stats;
    try {
      st = await this.files.streamToFile(join(dir, file), body);
    } catch (e) {
      throw goneOr(e, upload);
    }
    const d = describe();
    const stored: StoredPart = { partNumber, etag: d.etag, size: st.size, lastModified: st.mtime.toISOString(), checksums: d.checksums, file };
    const pointer = join(dir, partRecordName(partNumber));
    const previous = await readJson<StoredPart>(pointer);
    try {
      await writeJsonAtomic(pointer, stored);
    } catch (e) {
      await fsp.rm(join(dir, file), { force: true });
      throw goneOr(e, upload);
    }
    if (previous && previous.file !== file) await fsp.rm(join(dir, previous.file), { force: true });
    return toPartInfo(stored);
  }

  async listParts(upload: UploadInfo): Promise<PartInfo[]> {
    try {
      return (await readPartRecords<StoredPart>(this.dirOf(upload.uploadId))).map(toPartInfo);
    } catch (e) {
      throw goneOr(e, upload);
    }
  }

  async completeUpload(upload: UploadInfo, parts: PartInfo[], describe: () => WrittenObject, onData: (chunk: Buffer) => void, check?: ChangeCheck): Promise<ObjectStatus> {
    const dir = this.dirOf(upload.uploadId);
    const stored = new Map((await Promise.all(parts.map((p) => readJson<StoredPart>(join(dir, partRecordName(p.partNumber)))))).filter((p): p is StoredPart => p !== null).map((p) => [p.partNumber, p]));
    const tmp = this.files.newTempPath();
    let out: number | undefined;
    try {
      out = await openFd(tmp, 'wx');
      const buffer = Buffer.allocUnsafe(JOIN_BUFFER);
      let position = 0;
      for (const part of parts) {
        const s = stored.get(part.partNumber);
        if (!s || s.etag !== part.etag) throw new StorageError('NotFound', `part ${part.partNumber} changed while the upload was completed`);
        const input = await openFd(join(dir, s.file), 'r');
        try {
          for (;;) {
            const { bytesRead } = await readFd(input, buffer, 0, JOIN_BUFFER, null);
            if (bytesRead === 0) break;
            let off = 0;
            while (off < bytesRead) {
              const { bytesWritten } = await writeFd(out, buffer, off, bytesRead - off, position);
              off += bytesWritten;
              position += bytesWritten;
            }
            onData(buffer.subarray(0, bytesRead));
          }
        } finally {
          await closeFd(input);
        }
      }
      const handle = out;
      out = undefined;
      const st = await finishFile(handle, this.files.fsync);
      const status = await this.files.commitFile(upload.key, tmp, st, describe(), check);
      await fsp.rm(dir, { recursive: true, force: true });
      return status;
    } catch (e) {
      if (out !== undefined) await closeFd(out).catch(() => undefined);
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw goneOr(e, upload);
    }
  }

  async abortUpload(upload: UploadInfo): Promise<void> {
    await fsp.rm(this.dirOf(upload.uploadId), { recursive: true, force: true });
  }
}

async function finishFile(fd: number, fsync: boolean): Promise<Stats> {
  try {
    if (fsync) await fdatasyncFd(fd);
    return await fstatFd(fd);
  } finally {
    await closeFd(fd);
  }
}

/** An upload folder that vanished (aborted, completed, cleaned) means the upload is gone. */
function goneOr(e: unknown, upload: UploadInfo): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new StorageError('NotFound', `upload ${upload.uploadId} no longer exists`);
  return e;
}
