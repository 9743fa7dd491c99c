// Multipart uploads on an S3 mount: pass-through to the store's own multipart upload. Parts go
// straight to the store (never staged locally); Strata keeps a small index of its uploads in the
// worker's work folder (`<work dir>/ufs-s3/<store hash>/uploads/<uploadId>/`): the store's upload id,
// the key, the metadata given at create, and per part its ETag, size and the checksums Strata
// verified (stores differ in what ListParts gives, and some lack it). Upload ids are Strata's own,
// time-ordered as on folder mounts.
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, UploadPartCommand,
} from '@aws-sdk/client-s3';
import { StorageError } from '../errors.js';
import type { BodySource, ChangeCheck, MultipartStorage, ObjectMeta, ObjectStatus, PartInfo, UploadInfo, WriteHints, WrittenObject } from '../ufs.js';
import { isFolderKey, tagQuery, toStoreHeaders, toStoreMetadata, unquote } from './s3Meta.js';
import { newUploadId, type PartRecord, partRecordName, readJson, readPartRecords, toPartInfo, UPLOAD_ID, writeJsonAtomic } from '../uploadIndex.js';
import type { S3Ufs } from './s3Ufs.js';

interface StoredUpload {
  uploadId: string;
  storeUploadId: string;
  key: string;
  initiated: string;
  meta: ObjectMeta;
  checksumAlgorithm?: string;
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
}

export class S3Multipart implements MultipartStorage {
  constructor(private readonly ufs: S3Ufs, private readonly indexDir: string) {}

  private dirOf(uploadId: string): string {
    return join(this.indexDir, uploadId);
  }

  async createUpload(key: string, meta: ObjectMeta, checksum?: { algorithm: string; type: 'COMPOSITE' | 'FULL_OBJECT' }): Promise<UploadInfo> {
    const storeKey = this.ufs.storeKey(key);
    const out = await this.ufs.call('CreateMultipartUpload', (signal) =>
      this.ufs.client.send(new CreateMultipartUploadCommand({
        Bucket: this.ufs.bucket, Key: storeKey, ...toStoreHeaders(meta), Metadata: toStoreMetadata(meta), Tagging: tagQuery(meta.tags),
      }), { abortSignal: signal }));
    if (!out.UploadId) throw new StorageError('Unavailable', `CreateMultipartUpload on ${this.ufs.uri}: the store gave no upload id`);
    const uploadId = newUploadId();
    const initiated = new Date();
    const stored: StoredUpload = {
      uploadId, storeUploadId: out.UploadId, key, initiated: initiated.toISOString(), meta, checksumAlgorithm: checksum?.algorithm, checksumType: checksum?.type,
    };
    await fsp.mkdir(this.dirOf(uploadId), { recursive: true });
    await writeJsonAtomic(join(this.dirOf(uploadId), 'upload.json'), stored);
    return toUploadInfo(stored, initiated);
  }

  private async stored(uploadId: string): Promise<StoredUpload | null> {
    if (!UPLOAD_ID.test(uploadId)) return null;
    return readJson<StoredUpload>(join(this.dirOf(uploadId), 'upload.json'));
  }

  async getUpload(uploadId: string): Promise<UploadInfo | null> {
    const s = await this.stored(uploadId);
    if (!s) return null;
    const lastActivity = await fsp.stat(this.dirOf(uploadId)).then((st) => st.mtime, () => undefined);
    return toUploadInfo(s, lastActivity);
  }

  async listUploads(): Promise<UploadInfo[]> {
    const ids = await fsp.readdir(this.indexDir).catch(() => [] as string[]);
    const all = await Promise.all(ids.map((id) => this.getUpload(id)));
    return all.filter((u): u is UploadInfo => u !== null);
  }

  async writePart(upload: UploadInfo, partNumber: number, body: BodySource, describe: () => { etag: string; checksums: Record<string, string> }, hints?: WriteHints): Promise<PartInfo> {
    const s = await this.stored(upload.uploadId);
    if (!s) throw new StorageError('NotFound', `upload ${upload.uploadId} no longer exists`);
    let described: { etag: string; checksums: Record<string, string> } | undefined;
    const { size, result } = await this.ufs.sendBody(body, hints?.size, () => (described = describe()), (Body, ContentLength) =>
      this.ufs.writeClient.send(new UploadPartCommand({
        Bucket: this.ufs.bucket, Key: this.ufs.storeKey(s.key), UploadId: s.storeUploadId, PartNumber: partNumber, Body, ContentLength,
      })), `UploadPart ${partNumber} of ${s.key}`);
    const part: PartRecord = {
      partNumber, etag: unquote(result.ETag ?? described!.etag), size, lastModified: new Date().toISOString(), checksums: described!.checksums,
    };
    try {
      await writeJsonAtomic(join(this.dirOf(upload.uploadId), partRecordName(partNumber)), part);
    } catch {
      throw new StorageError('NotFound', `upload ${upload.uploadId} no longer exists`);
    }
    return toPartInfo(part);
  }

  async listParts(upload: UploadInfo): Promise<PartInfo[]> {
    try {
      return (await readPartRecords(this.dirOf(upload.uploadId))).map(toPartInfo);
    } catch {
      throw new StorageError('NotFound', `upload ${upload.uploadId} no longer exists`);
    }
  }

  async completeUpload(upload: UploadInfo, parts: PartInfo[], describe: () => WrittenObject, _onData: (chunk: Buffer) => void, check?: ChangeCheck): Promise<ObjectStatus> {
    // The bytes never pass through Strata: a FULL_OBJECT checksum cannot be computed here (docs/ufs-s3.md).
    const s = await this.stored(upload.uploadId);
    if (!s) throw new StorageError('NotFound', `upload ${upload.uploadId} no longer exists`);
    const conditions = check ? await this.ufs.checkNow(s.key, check) : {};
    const out = await this.ufs.call(`CompleteMultipartUpload of ${s.key}`, (signal) =>
      this.ufs.client.send(new CompleteMultipartUploadCommand({
        Bucket: this.ufs.bucket, Key: this.ufs.storeKey(s.key), UploadId: s.storeUploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: `"${p.etag}"` })) },
        ...conditions,
      }), { abortSignal: signal }));
    await fsp.rm(this.dirOf(upload.uploadId), { recursive: true, force: true });
    await this.ufs.ensureTags(s.key, s.meta.tags);
    const written = describe();
    const size = parts.reduce((n, p) => n + p.size, 0);
    const etag = unquote(out.ETag ?? written.etag);
    // What the store keeps is what a later HEAD shows: the metadata given at create, no full-object checksum.
    const meta = { ...written.meta, checksums: written.meta.checksumType === 'COMPOSITE' ? written.meta.checksums : {} };
    return { key: s.key, size, etag, lastModified: new Date(), isFolder: isFolderKey(s.key, size), meta, version: `${etag}:${size}` };
  }

  async abortUpload(upload: UploadInfo): Promise<void> {
    const s = await this.stored(upload.uploadId);
    if (s) {
      try {
        await this.ufs.call(`AbortMultipartUpload of ${s.key}`, (signal) =>
          this.ufs.client.send(new AbortMultipartUploadCommand({ Bucket: this.ufs.bucket, Key: this.ufs.storeKey(s.key), UploadId: s.storeUploadId }), { abortSignal: signal }));
      } catch (e) {
        // Gone already, or a store without AbortMultipartUpload: the index entry goes anyway.
        if (!(e instanceof StorageError) || (e.kind !== 'NotFound' && e.kind !== 'Invalid')) throw e;
      }
    }
    await fsp.rm(this.dirOf(upload.uploadId), { recursive: true, force: true });
  }
}

function toUploadInfo(s: StoredUpload, lastActivity?: Date): UploadInfo {
  return {
    uploadId: s.uploadId, key: s.key, initiated: new Date(s.initiated), meta: s.meta, checksumAlgorithm: s.checksumAlgorithm, checksumType: s.checksumType, lastActivity,
  };
}

