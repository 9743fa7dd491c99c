// Multipart uploads: S3's rules (part numbers, sizes, order, ETags, timeouts) over the storage
// steps each adapter supplies (ufs.ts MultipartStorage).
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { StorageError } from '../ufs/errors.js';
import { compareUtf8 } from '../ufs/keyOrder.js';
import type { BodySource, ObjectMeta, ObjectStatus, PartInfo, UnderStorage, UploadInfo, WriteHints } from '../ufs/ufs.js';
import { changeCheck, type WriteConditions } from './conditions.js';
import { fromStorage, ObjectError } from './errors.js';
import type { ObjectService } from './objectService.js';

export const MAX_PART_NUMBER = 10_000;

export interface MultipartOptions {
  /** Smallest part but the last (S3: 5 MiB). */
  minPartSize: number;
  /** Uploads with no new part for longer than this are aborted by the cleaner; 0 disables it. */
  uploadTimeoutMs: number;
}

export interface RequestedPart {
  partNumber: number;
  etag: string;
  /** Checksums the client gives for the part in the Complete request (ChecksumCRC32, ...). */
  checksums?: Record<string, string>;
}

export class MultipartService {
  private cleaner?: NodeJS.Timeout;

  constructor(private readonly objects: ObjectService, private readonly options: MultipartOptions) {}

  /** Runs an adapter step of an upload: a vanished upload is NoSuchUpload, other errors as usual. */
  private async step<T>(bucket: string, uploadId: string, fn: (u: UnderStorage) => Promise<T>): Promise<T> {
    const u = await this.objects.storage(bucket);
    try {
      return await fn(u);
    } catch (e) {
      if (e instanceof StorageError && e.kind === 'NotFound') throw noSuchUpload(uploadId);
      throw fromStorage(e, bucket);
    }
  }

  async create(bucket: string, key: string, meta: ObjectMeta, checksum?: { algorithm: string; type: 'COMPOSITE' | 'FULL_OBJECT' }): Promise<UploadInfo> {
    return this.step(bucket, '', (u) => u.createUpload(key, meta, checksum));
  }

  /** The upload, which must exist and be for this key. */
  async upload(bucket: string, key: string, uploadId: string): Promise<UploadInfo> {
    const upload = await this.step(bucket, uploadId, (u) => u.getUpload(uploadId));
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    return upload;
  }

  async writePart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: BodySource,
    describe: () => { etag: string; checksums: Record<string, string> },
    hints?: WriteHints,
  ): Promise<PartInfo> {
    const upload = await this.upload(bucket, key, uploadId);
    return this.step(bucket, uploadId, (u) => u.writePart(upload, partNumber, body, describe, hints));
  }

  async listParts(bucket: string, key: string, uploadId: string): Promise<{ upload: UploadInfo; parts: PartInfo[] }> {
    const upload = await this.upload(bucket, key, uploadId);
    const parts = await this.step(bucket, uploadId, (u) => u.listParts(upload));
    return { upload, parts };
  }

  /**
   * Every check of CompleteMultipartUpload that can fail fast (the upload, the list's order, each
   * part's existence and ETag, the sizes); returns the slow step, joining the parts, to run after
   * the 200 went out.
   */
  async prepareComplete(bucket: string, key: string, uploadId: string, requested: RequestedPart[], conditions?: WriteConditions): Promise<{
    upload: UploadInfo;
    /** The parts chosen, in order. */
    parts: PartInfo[];
    etag: string;
    /**
     * Joins the parts. `onData` sees the bytes as they are joined; `checksums` (called after) gives
     * the object's checksums and their type.
     */
    commit: (onData: (chunk: Buffer) => void, checksums: () => Pick<ObjectMeta, 'checksums' | 'checksumType'>) => Promise<ObjectStatus>;
  }> {
    const { upload, parts } = await this.listParts(bucket, key, uploadId);
    await this.objects.checkEarly(bucket, key, conditions);
    if (requested.length === 0) throw new ObjectError('MalformedXML', 'You must specify at least one part.');
    const stored = new Map(parts.map((p) => [p.partNumber, p]));
    const chosen: PartInfo[] = [];
    for (let i = 0; i < requested.length; i++) {
      const { partNumber, etag } = requested[i];
      if (i > 0 && partNumber <= requested[i - 1].partNumber) throw new ObjectError('InvalidPartOrder', undefined, { UploadId: uploadId });
      const part = stored.get(partNumber);
      if (!part || normalizeEtag(etag) !== part.etag) {
        throw new ObjectError('InvalidPart', undefined, { UploadId: uploadId, PartNumber: String(partNumber), ETag: etag });
      }
      for (const [alg, value] of Object.entries(requested[i].checksums ?? {})) {
        if (part.checksums[alg] !== value) {
          throw new ObjectError('InvalidPart', `The ${alg} checksum of part ${partNumber} does not match the part uploaded.`, { UploadId: uploadId, PartNumber: String(partNumber) });
        }
      }
      chosen.push(part);
    }
    for (let i = 0; i < chosen.length - 1; i++) {
      if (chosen[i].size < this.options.minPartSize) {
        throw new ObjectError('EntityTooSmall', undefined, {
          ProposedSize: String(chosen[i].size),
          MinSizeAllowed: String(this.options.minPartSize),
          PartNumber: String(chosen[i].partNumber),
          ETag: `"${chosen[i].etag}"`,
        });
      }
    }
    const etag = multipartEtag(chosen);
    const meta: ObjectMeta = {
      ...upload.meta,
      partsCount: chosen.length,
      parts: chosen.map((p) => ({ partNumber: p.partNumber, size: p.size, checksums: p.checksums })),
    };
    return {
      upload,
      parts: chosen,
      etag,
      commit: (onData, checksums) =>
        this.step(bucket, uploadId, (u) => u.completeUpload(upload, chosen, () => ({ etag, meta: { ...meta, ...checksums() } }), onData, changeCheck(conditions, key)))
          .then(async (status) => {
            await this.objects.objectChanged(bucket, key);
            return status;
          }),
    };
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    const upload = await this.upload(bucket, key, uploadId);
    await this.step(bucket, uploadId, (u) => u.abortUpload(upload));
  }

  async listUploads(bucket: string): Promise<UploadInfo[]> {
    const uploads = await this.step(bucket, '', (u) => u.listUploads());
    return uploads.sort((a, b) => compareUtf8(a.key, b.key) || a.initiated.getTime() - b.initiated.getTime() || (a.uploadId < b.uploadId ? -1 : 1));
  }

  /** Aborts uploads older than the timeout, in every bucket, now and then. */
  startCleaner(logger: Logger): void {
    const timeout = this.options.uploadTimeoutMs;
    if (timeout <= 0) return;
    const every = Math.max(1000, Math.min(timeout / 4, 10 * 60 * 1000));
    this.cleaner = setInterval(() => void this.cleanOnce(logger), every);
    this.cleaner.unref();
  }

  stopCleaner(): void {
    if (this.cleaner) clearInterval(this.cleaner);
  }

  async cleanOnce(logger: Logger): Promise<number> {
    const cutoff = Date.now() - this.options.uploadTimeoutMs;
    let cleaned = 0;
    for (const mount of this.objects.listBuckets()) {
      try {
        const u = await this.objects.storage(mount.bucket);
        for (const upload of await u.listUploads()) {
          if ((upload.lastActivity ?? upload.initiated).getTime() >= cutoff) continue;
          await u.abortUpload(upload);
          cleaned++;
          logger.info({ bucket: mount.bucket, key: upload.key, uploadId: upload.uploadId }, 'aborted an abandoned multipart upload');
        }
      } catch (e) {
        logger.warn({ bucket: mount.bucket, err: e }, 'multipart cleaner could not sweep a bucket');
      }
    }
    return cleaned;
  }
}

export function noSuchUpload(uploadId: string): ObjectError {
  return new ObjectError('NoSuchUpload', 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', { UploadId: uploadId });
}

/** `"abc"` or `abc` -> `abc`. */
export function normalizeEtag(etag: string): string {
  return etag.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
}

/** S3's multipart ETag: MD5 of the concatenated binary part MD5s, then `-<number of parts>`. */
export function multipartEtag(parts: Array<{ etag: string }>): string {
  const md5 = createHash('md5');
  for (const p of parts) md5.update(Buffer.from(p.etag, 'hex'));
  return `${md5.digest('hex')}-${parts.length}`;
}

/** Part numbers are integers 1..10000. */
export function parsePartNumber(raw: string | undefined): number {
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PART_NUMBER) {
    throw new ObjectError('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: raw ?? '',
    });
  }
  return Number(raw);
}
