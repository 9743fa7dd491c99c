// Opens the under-storage a mount names by its URI scheme.
import { fileURLToPath } from 'node:url';
import { StorageError } from './errors.js';
import { LocalUfs } from './localUfs.js';
import type { UnderStorage } from './ufs.js';

export interface UfsSettings {
  fsync: boolean;
}

export async function openUnderStorage(uri: string, _options: Record<string, string>, settings: UfsSettings): Promise<UnderStorage> {
  if (uri.startsWith('file:')) return LocalUfs.open(uri, localFolderOf(uri), { fsync: settings.fsync });
  if (uri.startsWith('/')) return LocalUfs.open(`file://${uri}`, uri, { fsync: settings.fsync });
  throw new StorageError('Invalid', `Unsupported under-storage URI "${uri}": use file:///path/to/folder.`);
}

/** `file:///srv/data` -> `/srv/data` (also accepts `file:/srv/data`). */
export function localFolderOf(uri: string): string {
  try {
    return fileURLToPath(uri.replace(/^file:\/(?!\/)/, 'file:///'));
  } catch {
    throw new StorageError('Invalid', `"${uri}" is not a valid file:// URI.`);
  }
}
