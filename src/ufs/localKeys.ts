// Key safety on folder mounts: an S3 key becomes a relative path that can never leave the mount.
// `..`, `.` and empty segments, NUL, absolute paths and the reserved system folder are refused;
// an object store mount passes keys through untouched and does not use this.
import { StorageError } from './errors.js';

/** The hidden folder inside a mount where Strata keeps temporary files, metadata and upload parts. */
export const SYSTEM_FOLDER = '.strata.sys';

/** Longest file name most Linux filesystems accept, in bytes. */
const MAX_SEGMENT_BYTES = 255;

export interface KeyPath {
  /** Relative path without a trailing slash, segments joined by '/'. */
  rel: string;
  /** The key names a folder object (`dir/`). */
  isFolder: boolean;
}

export function keyToPath(key: string): KeyPath {
  if (key.includes('\0')) throw invalid(key, 'contains a NUL character');
  const isFolder = key.endsWith('/');
  const body = isFolder ? key.slice(0, -1) : key;
  if (body === '') throw invalid(key, 'is empty or only "/"');
  const segments = body.split('/');
  for (const s of segments) {
    if (s === '') throw invalid(key, 'has an empty path segment ("//" or a leading "/")');
    if (s === '.' || s === '..') throw invalid(key, `has a "${s}" path segment, which would leave its folder`);
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) {
      throw new StorageError('KeyTooLong', `The key has a path segment longer than ${MAX_SEGMENT_BYTES} bytes, which a folder mount cannot store.`);
    }
  }
  if (segments[0] === SYSTEM_FOLDER) throw invalid(key, `starts with the reserved folder ${SYSTEM_FOLDER}`);
  return { rel: segments.join('/'), isFolder };
}

function invalid(key: string, why: string): StorageError {
  const shown = key.length > 200 ? `${key.slice(0, 200)}...` : key;
  return new StorageError('InvalidKey', `The key "${shown.replace(/\0/g, '\\0')}" ${why}; a folder mount cannot store it.`);
}
