// Checksum algorithms: standard check values, S3's base64 form, split updates, header values.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import {
  CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, checkChecksumValue, checksumAlgorithmOfHeader, checksumBase64, checksumDigestLength,
  checksumHeaderName, crc32c, createChecksum, digestBase64, isValidChecksumValue, parseChecksumAlgorithm,
} from '../../../../src/s3/body/checksums.js';
import { codeOf } from './helpers.js';

/** Bit-at-a-time reflected CRC (the textbook definition), as the reference for the fast code. */
function referenceCrc(data: Uint8Array, poly: bigint, width: number): bigint {
  const mask = (1n << BigInt(width)) - 1n;
  let crc = mask;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc ^ mask;
}
const refHex = (data: Uint8Array, alg: 'CRC32' | 'CRC32C' | 'CRC64NVME'): string => {
  const [poly, width] = alg === 'CRC32' ? [0xedb88320n, 32] : alg === 'CRC32C' ? [0x82f63b78n, 32] : [0x9a6c9329ac4bc9b5n, 64];
  return referenceCrc(data, poly, width).toString(16).padStart(width / 4, '0');
};

test('check values of "123456789" for every algorithm', () => {
  const expect: Record<ChecksumAlgorithm, string> = {
    CRC32: 'cbf43926',
    CRC32C: 'e3069283',
    CRC64NVME: 'ae8b14860a799888',
    SHA1: 'f7c3bc1d808e04732adf679965ccc34ca7ae3441',
    SHA256: '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
  };
  for (const alg of CHECKSUM_ALGORITHMS) {
    const one = createChecksum(alg);
    one.update(Buffer.from('123456789'));
    assert.equal(one.digest().toString('hex'), expect[alg], alg);
    assert.equal(one.algorithm, alg);
    // The same in pieces, including empty ones.
    const split = createChecksum(alg);
    for (const piece of ['', '1', '23', '', '4567', '89']) split.update(Buffer.from(piece));
    assert.equal(split.digest().toString('hex'), expect[alg], `${alg} split`);
    assert.equal(checksumDigestLength(alg), expect[alg].length / 2);
  }
});

test('base64 values as S3 writes them', () => {
  // "hello world" in every algorithm (CRC64NVME as AWS SDKs compute it).
  const hello: Record<ChecksumAlgorithm, string> = {
    CRC32: 'DUoRhQ==',
    CRC32C: 'yZRlqg==',
    SHA1: 'Kq5sNclPz7QV2+lfQIuc6R7oRu0=',
    SHA256: 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=',
    CRC64NVME: 'jSnVw/bqjr4=',
  };
  for (const alg of CHECKSUM_ALGORITHMS) {
    assert.equal(checksumBase64(alg, 'hello world'), hello[alg], alg);
    assert.equal(checksumBase64(alg, Buffer.from('hello world')), hello[alg], alg);
    assert.equal(checksumBase64(alg, [Buffer.from('hello'), Buffer.from(' world')]), hello[alg], alg);
    const s = createChecksum(alg);
    s.update(Buffer.from('hello world'));
    assert.equal(digestBase64(s), hello[alg]);
  }
  // S3's streaming-trailer documentation example: 66560 bytes of "a", x-amz-checksum-crc32c:sOO8/Q==.
  assert.equal(checksumBase64('CRC32C', Buffer.alloc(66560, 'a')), 'sOO8/Q==');
  // The empty body.
  assert.equal(checksumBase64('CRC32', ''), 'AAAAAA==');
  assert.equal(checksumBase64('CRC64NVME', ''), 'AAAAAAAAAAA=');
  assert.equal(checksumBase64('SHA256', ''), '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=');
});

test('CRCs match the bitwise definition at every length, offset and split (byte and word paths)', () => {
  const data = randomBytes(300);
  for (const alg of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
    for (let len = 0; len <= 150; len++) {
      for (const off of [0, 1, 3, 5]) {
        const view = data.subarray(off, off + len);
        const want = refHex(view, alg);
        const whole = createChecksum(alg);
        whole.update(view);
        assert.equal(whole.digest().toString('hex'), want, `${alg} len ${len} off ${off}`);
        const cut = len >> 1;
        const parts = createChecksum(alg);
        parts.update(view.subarray(0, cut));
        parts.update(view.subarray(cut));
        assert.equal(parts.digest().toString('hex'), want, `${alg} len ${len} off ${off} split`);
      }
    }
    const big = randomBytes(100_003);
    const sum = createChecksum(alg);
    for (let i = 0; i < big.length; i += 7919) sum.update(big.subarray(i, i + 7919));
    assert.equal(sum.digest().toString('hex'), refHex(big, alg), `${alg} large`);
  }
  // crc32c() chains zlib-style.
  assert.equal(crc32c(Buffer.from('56789'), crc32c(Buffer.from('1234'))), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(0)), 0);
  // SHA digests are node's own.
  const big = randomBytes(10_000);
  assert.equal(checksumBase64('SHA1', big), createHash('sha1').update(big).digest('base64'));
});

test('header names and algorithm names', async () => {
  assert.equal(checksumHeaderName('CRC32'), 'x-amz-checksum-crc32');
  assert.equal(checksumHeaderName('CRC64NVME'), 'x-amz-checksum-crc64nvme');
  assert.equal(checksumAlgorithmOfHeader('X-Amz-Checksum-CRC32C'), 'CRC32C');
  assert.equal(checksumAlgorithmOfHeader('x-amz-checksum-md5'), undefined);
  assert.equal(parseChecksumAlgorithm('crc32c'), 'CRC32C');
  assert.equal(parseChecksumAlgorithm(' Sha256 '), 'SHA256');
  assert.equal(parseChecksumAlgorithm('CRC64NVME'), 'CRC64NVME');
  assert.equal(await codeOf(() => parseChecksumAlgorithm('MD5')), 'InvalidRequest');
  assert.equal(await codeOf(() => parseChecksumAlgorithm('')), 'InvalidRequest');
  assert.deepEqual([...CHECKSUM_ALGORITHMS].sort(), ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256']);
});

test('checksum values must be base64 of the digest length', async () => {
  assert.ok(isValidChecksumValue('CRC32', 'DUoRhQ=='));
  assert.ok(isValidChecksumValue('CRC64NVME', 'jSnVw/bqjr4='));
  assert.ok(isValidChecksumValue('SHA256', 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek='));
  for (const [alg, bad] of [
    ['CRC32', 'DUoRhQ'], // unpadded
    ['CRC32', 'DUoRhQ=!'],
    ['CRC32', 'jSnVw/bqjr4='], // 8 bytes for a 4-byte CRC
    ['CRC64NVME', 'DUoRhQ=='],
    ['CRC32C', ''],
    ['CRC32C', 'zzz'],
    ['SHA1', 'uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek='],
    ['SHA256', 'uU0nuZNNPgilLlLX2n2r-sSE7-N6U4DukIj3rOLvzek='], // base64url
  ] as Array<[ChecksumAlgorithm, string]>) {
    assert.equal(isValidChecksumValue(alg, bad), false, `${alg} ${bad}`);
    const err = await codeOf(() => checkChecksumValue(alg, bad));
    assert.equal(err, 'InvalidRequest');
  }
  assert.throws(() => checkChecksumValue('CRC32', 'nope'), { message: 'Value for x-amz-checksum-crc32 header is invalid.' });
});
