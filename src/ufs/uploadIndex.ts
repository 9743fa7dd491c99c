// The small files both multipart implementations keep per upload, in a folder of their own:
// `upload.json` (written once) and one `<nnnnn>.json` record per part (replaced atomically, so a
// part uploaded twice keeps the last). Folder mounts keep them beside the staged part bytes
// (localMultipart.ts); S3 mounts keep them in the work folder, the parts being in the store
// (s3/s3Multipart.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { PartInfo } from './ufs.js';

/** Upload ids are Strata's own, whatever the store's. */
export const UPLOAD_ID = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Time first, so that upload ids sort as their initiation does (S3 orders a key's uploads by
 * initiation, and pages them by upload id).
 */
export function newUploadId(): string {
  return Date.now().toString(16).padStart(12, '0') + randomBytes(18).toString('base64url');
}

/** A part as recorded: PartInfo with its date as text. */
export interface PartRecord extends Omit<PartInfo, 'lastModified'> {
  lastModified: string;
}

export function partRecordName(partNumber: number): string {
  return `${String(partNumber).padStart(5, '0')}.json`;
}

export function toPartInfo(p: PartRecord): PartInfo {
  return { partNumber: p.partNumber, etag: p.etag, size: p.size, lastModified: new Date(p.lastModified), checksums: p.checksums };
}

/** A JSON file's content, or null when it is missing or unreadable. */
export async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await fsp.readFile(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** The part records of an upload folder, by part number; the folder's absence throws as readdir does. */
export async function readPartRecords<T extends PartRecord>(dir: string): Promise<T[]> {
  const names = await fsp.readdir(dir);
  const parts = await Promise.all(names.filter((n) => /^\d{5}\.json$/.test(n)).map((n) => readJson<T>(join(dir, n))));
  return parts.filter((p): p is Awaited<T> => p !== null).sort((a, b) => a.partNumber - b.partNumber);
}

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${randomUUID()}.tmp`;
  await fsp.writeFile(tmp, JSON.stringify(value));
  try {
    await fsp.rename(tmp, path);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
