// The under-storage interface: the storage steps every adapter supplies (local folder, S3).
// It speaks in object keys relative to the mount; S3 semantics (limits, listings' XML, multipart
// rules) live above it in objects/.
import type { Duplex, Readable } from 'node:stream';

/** A request body and the transforms (decoding, verification) its bytes go through, in order. */
export type BodySource = readonly [Readable, ...Duplex[]];

/** What S3 stores beside an object's bytes. */
export interface ObjectMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* without the prefix, names lower-case. */
  userMetadata: Record<string, string>;
  /** Object tags, in the order given. */
  tags: Array<[string, string]>;
  /** Base64 values by algorithm name (CRC32, CRC32C, SHA1, SHA256, CRC64NVME). */
  checksums: Record<string, string>;
  /** The user who wrote the object. */
  owner?: string;
  /** Multipart objects: number of parts (their ETag ends with -N). */
  partsCount?: number;
  /** Multipart objects: each part's number, size and checksums (GetObjectAttributes). */
  parts?: Array<{ partNumber: number; size: number; checksums: Record<string, string> }>;
  /** COMPOSITE (checksum of the parts' checksums, `-N`) or FULL_OBJECT. */
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
}

export interface ObjectStatus {
  key: string;
  size: number;
  /** Without quotes. */
  etag: string;
  lastModified: Date;
  /** A `dir/` folder object. */
  isFolder: boolean;
  meta: ObjectMeta;
  /** Identity of this version of the object (changes whenever content changes), for caches. */
  version: string;
}

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

export interface ObjectRead {
  status: ObjectStatus;
  /** The range being sent, or null for the whole object. */
  range: ByteRange | null;
  body: Readable;
  /** The same bytes already in memory, when they were small enough to read at once (saves a stream on the hot path). */
  bytes?: Buffer;
}

export interface ListRequest {
  prefix: string;
  delimiter: string;
  /** Only keys (and common prefixes) strictly after this one. */
  after: string;
  maxKeys: number;
}

export interface ListEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  owner?: string;
  isFolder: boolean;
}

export interface ListPage {
  entries: ListEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts after. */
  last?: string;
}

/**
 * A condition on the object a write or delete replaces, checked atomically with the change (no
 * other change of the key comes between): throws to refuse it. `current` is null when there is none.
 */
export type ChangeCheck = (current: ObjectStatus | null) => void;

/** Final description of a written object, known only once all bytes went through verification. */
export interface WrittenObject {
  etag: string;
  meta: ObjectMeta;
}

/**
 * What a writer knows before the body arrives: its decoded size and the metadata (all but the
 * checksums). Optional; stores that take metadata and length at request start (S3) use them to
 * stream instead of buffering.
 */
export interface WriteHints {
  size?: number;
  meta?: ObjectMeta;
}

/** A multipart upload in progress. */
export interface UploadInfo {
  uploadId: string;
  key: string;
  initiated: Date;
  /** What the object gets at Complete: headers, user metadata, tags, owner. */
  meta: ObjectMeta;
  /** x-amz-checksum-algorithm given at create, if any. */
  checksumAlgorithm?: string;
  /** x-amz-checksum-type given at create (COMPOSITE or FULL_OBJECT). */
  checksumType?: 'COMPOSITE' | 'FULL_OBJECT';
  /** When a part was last added (for the cleaner of abandoned uploads). */
  lastActivity?: Date;
}

export interface PartInfo {
  partNumber: number;
  /** Hex MD5 of the part, without quotes. */
  etag: string;
  size: number;
  lastModified: Date;
  checksums: Record<string, string>;
}

/** The storage steps of multipart uploads; the rules (sizes, order, ETags) live in objects/. */
export interface MultipartStorage {
  createUpload(key: string, meta: ObjectMeta, checksum?: { algorithm: string; type: 'COMPOSITE' | 'FULL_OBJECT' }): Promise<UploadInfo>;
  /** null when the id is unknown, finished or aborted. */
  getUpload(uploadId: string): Promise<UploadInfo | null>;
  listUploads(): Promise<UploadInfo[]>;
  /** Stores a part; a part number written again replaces the earlier part. */
  writePart(upload: UploadInfo, partNumber: number, body: BodySource, describe: () => { etag: string; checksums: Record<string, string> }, hints?: WriteHints): Promise<PartInfo>;
  /** The parts stored so far, by part number. */
  listParts(upload: UploadInfo): Promise<PartInfo[]>;
  /**
   * Joins the chosen parts, in order, into the object (atomically, as write does) and ends the
   * upload. `onData` sees the object's bytes as they are joined (for a full-object checksum);
   * `describe` is called once all are joined.
   */
  completeUpload(upload: UploadInfo, parts: PartInfo[], describe: () => WrittenObject, onData: (chunk: Buffer) => void, check?: ChangeCheck): Promise<ObjectStatus>;
  /** Ends an upload and frees its parts at once. */
  abortUpload(upload: UploadInfo): Promise<void>;
}

export interface ReadHints {
  /**
   * The caller uses the bytes and `status.version` only (the page cache filling pages): the status
   * may leave out what costs another request (an S3 mount's tags).
   */
  bytesOnly?: boolean;
}

export interface UnderStorage extends MultipartStorage {
  readonly uri: string;
  /** Status of an object, or null when there is none. */
  stat(key: string): Promise<ObjectStatus | null>;
  /** Opens an object; `pickRange` chooses the bytes once the size is known (and may throw). */
  read(key: string, pickRange: (size: number) => ByteRange | null, hints?: ReadHints): Promise<ObjectRead | null>;
  /**
   * Writes an object atomically: nothing is visible until `body` ended without error and
   * `describe` (called then) gave its ETag and metadata; a failure leaves nothing behind.
   */
  write(key: string, body: BodySource, describe: () => WrittenObject, check?: ChangeCheck, hints?: WriteHints): Promise<ObjectStatus>;
  /**
   * Optional server-side copy: `source` is an adapter of the same kind; returns null when the two
   * do not share a store (the caller then streams the bytes).
   */
  copyFrom?(source: UnderStorage, sourceKey: string, key: string, meta: ObjectMeta, check?: ChangeCheck): Promise<ObjectStatus | null>;
  /** Replaces an object's metadata (tags, headers) without touching its bytes. */
  updateMeta(key: string, update: (meta: ObjectMeta) => ObjectMeta): Promise<ObjectStatus>;
  /** Removes an object; a missing one is not an error (S3's DELETE is idempotent). */
  delete(key: string, check?: ChangeCheck): Promise<void>;
  list(request: ListRequest): Promise<ListPage>;
  /** Drops what is cached about a key (another process changed its metadata). */
  forget(key: string): void;
  /** True when the storage holds no object at all (DeleteBucket's check). */
  isEmpty(): Promise<boolean>;
  close(): Promise<void>;
}

export function emptyMeta(): ObjectMeta {
  return { userMetadata: {}, tags: [], checksums: {} };
}
