// Mount options of S3 mounts: the URI, the spec's option names with or without a prefix,
// worker-wide defaults under mount options, and clear refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StorageError } from '../../../../src/ufs/errors.js';
import { canonicalOptionName, parseS3Options } from '../../../../src/ufs/s3/s3Options.js';
import { fromStoreHead, toStoreMetadata } from '../../../../src/ufs/s3/s3Meta.js';
import { emptyMeta } from '../../../../src/ufs/ufs.js';

test('bucket and prefix from the URI', () => {
  assert.deepEqual([parseS3Options('s3://b', {}).bucket, parseS3Options('s3://b', {}).prefix], ['b', '']);
  assert.equal(parseS3Options('s3://b/', {}).prefix, '');
  assert.equal(parseS3Options('s3://b/some/prefix', {}).prefix, 'some/prefix/');
  assert.equal(parseS3Options('s3://b/some/prefix/', {}).prefix, 'some/prefix/');
  assert.throws(() => parseS3Options('http://b/', {}), StorageError);
});

test('option names with strata., alluxio. or no prefix; defaults, then mount options', () => {
  assert.equal(canonicalOptionName('alluxio.underfs.s3.endpoint'), 'underfs.s3.endpoint');
  assert.equal(canonicalOptionName('strata.underfs.s3.endpoint'), 'underfs.s3.endpoint');
  const o = parseS3Options('s3://b/', {
    'alluxio.underfs.s3.endpoint': 'minio.local:9000',
    'strata.underfs.s3.disable.dns.buckets': 'true',
    's3a.accessKeyId': 'AK',
    's3a.secretKey': 'SK',
    'underfs.s3.request.timeout': '3s',
    'alluxio.underfs.object.store.multipart.upload.async': 'true',
    'underfs.s3.upload.threads.max': '256',
  }, { 'underfs.s3.request.timeout': '9s', 'underfs.s3.endpoint.region': 'eu-west-1', 'underfs.s3.threads.max': '' });
  assert.equal(o.endpoint, 'https://minio.local:9000');
  assert.equal(o.forcePathStyle, true);
  assert.deepEqual(o.credentials, { accessKeyId: 'AK', secretAccessKey: 'SK', sessionToken: undefined });
  assert.equal(o.requestTimeoutMs, 3000);
  assert.equal(o.region, 'eu-west-1');
  assert.equal(o.multipartAsync, true);
  assert.equal(o.uploadThreads, 256);
  assert.equal(o.maxConnections, 64);
  assert.equal(parseS3Options('s3://b/', {}).credentials, undefined, 'no keys: the AWS credential chain');
});

test('bad options are refused with the option named', () => {
  assert.throws(() => parseS3Options('s3://b/', { 'underfs.s3.nope': '1' }), /Unknown S3 mount option "underfs.s3.nope"/);
  assert.throws(() => parseS3Options('s3://b/', { 's3a.accessKeyId': 'only-one' }), /go together/);
  assert.throws(() => parseS3Options('s3://b/', { 'underfs.s3.request.timeout': 'soon' }), /underfs.s3.request.timeout/);
  assert.throws(() => parseS3Options('s3://b/', { 'underfs.s3.disable.dns.buckets': 'yes' }), /not true or false/);
  assert.throws(() => parseS3Options('s3://b/', { 'underfs.s3.streaming.upload.partition.size': '1MB' }), /at least 5MB/);
});

test('metadata mapping: owner and escaped strata- names round-trip', () => {
  const meta = { ...emptyMeta(), owner: 'alice', userMetadata: { color: 'blue', 'strata-owner': 'mallory' } };
  const stored = toStoreMetadata(meta);
  assert.deepEqual(stored, { color: 'blue', 'strata-u-strata-owner': 'mallory', 'strata-owner': 'alice' });
  const back = fromStoreHead({ Metadata: stored, ETag: '"abc-3"', ChecksumCRC32: 'AAAAAA==', ChecksumType: 'FULL_OBJECT' }, []);
  assert.equal(back.owner, 'alice');
  assert.deepEqual(back.userMetadata, { color: 'blue', 'strata-owner': 'mallory' });
  assert.equal(back.partsCount, 3);
  assert.deepEqual(back.checksums, { CRC32: 'AAAAAA==' });
  assert.equal(back.checksumType, 'FULL_OBJECT');
});
