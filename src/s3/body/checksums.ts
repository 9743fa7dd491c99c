// The checksums S3 accepts in x-amz-checksum-*: CRC32, CRC32C, CRC64NVME, SHA1, SHA256.
// Values travel as base64 of the big-endian digest. CRC32 uses zlib's native code; CRC32C and
// CRC64NVME are table-driven (slicing-by-8 for CRC32C, the one SDKs send most after CRC32).
import { createHash, type Hash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { S3Error } from '../errors.js';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'SHA1' | 'SHA256' | 'CRC64NVME';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'];

const DIGEST_BYTES: Record<ChecksumAlgorithm, number> = { CRC32: 4, CRC32C: 4, SHA1: 20, SHA256: 32, CRC64NVME: 8 };

export interface Checksum {
  update(chunk: Buffer): void;
  digest(): Buffer;
}

export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

/** `crc32c` or `CRC32C` -> CRC32C; anything else is InvalidRequest. */
export function parseChecksumAlgorithm(s: string): ChecksumAlgorithm {
  const up = s.trim().toUpperCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(up)) {
    throw new S3Error('InvalidRequest', `Checksum algorithm "${s}" is not one of ${CHECKSUM_ALGORITHMS.join(', ')}.`);
  }
  return up;
}

/** A checksum value must be base64 of the digest's length, else InvalidRequest as S3 answers. */
export function checkChecksumValue(alg: ChecksumAlgorithm, value: string): void {
  const bytes = DIGEST_BYTES[alg];
  const ok = /^[A-Za-z0-9+/]*={0,2}$/.test(value) && value.length === Math.ceil(bytes / 3) * 4 && Buffer.from(value, 'base64').length === bytes;
  if (!ok) throw new S3Error('InvalidRequest', `Value for ${checksumHeaderName(alg)} header is invalid.`);
}

export function createChecksum(alg: ChecksumAlgorithm): Checksum {
  switch (alg) {
    case 'CRC32':
      return new Crc32();
    case 'CRC32C':
      return new Crc32c();
    case 'CRC64NVME':
      return new Crc64Nvme();
    case 'SHA1':
      return new HashChecksum(createHash('sha1'));
    case 'SHA256':
      return new HashChecksum(createHash('sha256'));
  }
}

class HashChecksum implements Checksum {
  constructor(private readonly hash: Hash) {}
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  digest(): Buffer {
    return this.hash.digest();
  }
}

class Crc32 implements Checksum {
  private value = 0;
  update(chunk: Buffer): void {
    this.value = zlibCrc32(chunk, this.value);
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE(this.value >>> 0);
    return out;
  }
}

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), slicing-by-8. */
const CRC32C_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

class Crc32c implements Checksum {
  private crc = -1;
  update(buf: Buffer): void {
    const t = CRC32C_TABLES;
    let crc = this.crc;
    let i = 0;
    const n = buf.length;
    const fast = n - (n % 8);
    for (; i < fast; i += 8) {
      const a = (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24)) ^ crc;
      crc =
        t[1792 + (a & 0xff)] ^ t[1536 + ((a >>> 8) & 0xff)] ^ t[1280 + ((a >>> 16) & 0xff)] ^ t[1024 + (a >>> 24)] ^
        t[768 + buf[i + 4]] ^ t[512 + buf[i + 5]] ^ t[256 + buf[i + 6]] ^ t[buf[i + 7]];
    }
    for (; i < n; i++) crc = t[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8);
    this.crc = crc;
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(4);
    out.writeUInt32BE((this.crc ^ -1) >>> 0);
    return out;
  }
}

/** CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5), a table of 64-bit values as 32-bit halves. */
const CRC64_LO = new Uint32Array(256);
const CRC64_HI = new Uint32Array(256);
(() => {
  const polyLo = 0xac4bc9b5;
  const polyHi = 0x9a6c9329;
  for (let n = 0; n < 256; n++) {
    let lo = n;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const lsb = lo & 1;
      lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
      hi = hi >>> 1;
      if (lsb) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    CRC64_LO[n] = lo;
    CRC64_HI[n] = hi;
  }
})();

class Crc64Nvme implements Checksum {
  private lo = 0xffffffff;
  private hi = 0xffffffff;
  update(buf: Buffer): void {
    let lo = this.lo;
    let hi = this.hi;
    for (let i = 0; i < buf.length; i++) {
      const idx = (lo ^ buf[i]) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]) >>> 0;
      hi = ((hi >>> 8) ^ CRC64_HI[idx]) >>> 0;
    }
    this.lo = lo;
    this.hi = hi;
  }
  digest(): Buffer {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE((this.hi ^ 0xffffffff) >>> 0, 0);
    out.writeUInt32BE((this.lo ^ 0xffffffff) >>> 0, 4);
    return out;
  }
}
