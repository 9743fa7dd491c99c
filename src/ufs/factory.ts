// Opens the under-storage a mount names by its URI scheme.
import { fileURLToPath } from 'node:url';
import { StorageError } from './errors.js';
import { LocalUfs } from './localUfs.js';
import { S3Ufs } from './s3/s3Ufs.js';
import type { UnderStorage } from './ufs.js';

export interface UfsSettings {
  fsync: boolean;
  /** The worker's work folder (S3 mounts keep their multipart index there). */
  workDir?: string;
  /** Worker-wide defaults of S3 mount options (names as in s3/s3Options.ts). */
  s3Defaults?: Record<string, string>;
}

export async function openUnderStorage(uri: string, options: Record<string, string>, settings: UfsSettings): Promise<UnderStorage> {
  if (/^s3a?:\/\//.test(uri)) return S3Ufs.open(uri, options, { workDir: settings.workDir, defaults: settings.s3Defaults });
  if (uri.startsWith('file:')) return LocalUfs.open(uri, localFolderOf(uri), { fsync: settings.fsync });
  if (uri.startsWith('/')) return LocalUfs.open(`file://${uri}`, uri, { fsync: settings.fsync });
  throw new StorageError('Invalid', `Unsupported under-storage URI "${uri}": use file:///path/to/folder or s3://bucket/prefix/.`);
}

/** `file:///srv/data` -> `/srv/data` (also accepts `file:/srv/data`). */
export function localFolderOf(uri: string): string {
  try {
    return fileURLToPath(uri.replace(/^file:\/(?!\/)/, 'file:///'));
  } catch {
    throw new StorageError('Invalid', `"${uri}" is not a valid file:// URI.`);
  }
}
