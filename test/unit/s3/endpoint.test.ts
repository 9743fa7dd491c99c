// parseEndpoint against request lines from the AWS API reference's examples.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEndpoint, parseQuery, pathStyleTarget, refineWithHeaders } from '../../../src/s3/endpoint.js';
import { S3Error } from '../../../src/s3/errors.js';

const cases: Array<[string, string, string, string?, string?]> = [
  // method, target, action, bucket, key
  ['GET', '/', 'ListBuckets', '', ''],
  ['HEAD', '/bucket', 'HeadBucket', 'bucket', ''],
  ['PUT', '/bucket', 'CreateBucket', 'bucket', ''],
  ['DELETE', '/bucket/', 'DeleteBucket', 'bucket', ''],
  ['GET', '/bucket?list-type=2&prefix=photos/2006/&delimiter=/', 'ListObjectsV2', 'bucket', ''],
  ['GET', '/bucket?prefix=N&marker=Ned&max-keys=40', 'ListObjects', 'bucket', ''],
  ['GET', '/bucket?versions&key-marker=key2', 'ListObjectVersions', 'bucket', ''],
  ['GET', '/bucket?location', 'GetBucketLocation', 'bucket', ''],
  ['GET', '/bucket?versioning', 'GetBucketVersioning', 'bucket', ''],
  ['GET', '/bucket?acl', 'GetBucketAcl', 'bucket', ''],
  ['PUT', '/bucket?acl', 'PutBucketAcl', 'bucket', ''],
  ['GET', '/bucket?tagging', 'GetBucketTagging', 'bucket', ''],
  ['PUT', '/bucket?tagging', 'PutBucketTagging', 'bucket', ''],
  ['DELETE', '/bucket?tagging', 'DeleteBucketTagging', 'bucket', ''],
  ['GET', '/bucket?uploads&max-uploads=3', 'ListMultipartUploads', 'bucket', ''],
  ['POST', '/bucket?delete', 'DeleteObjects', 'bucket', ''],
  ['POST', '/bucket', 'PostObject', 'bucket', ''],
  // STS on the S3 port: a form POST to /, or the query form.
  ['POST', '/', 'AssumeRoleWithWebIdentity', '', ''],
  ['GET', '/?Action=AssumeRoleWithWebIdentity&Version=2011-06-15', 'AssumeRoleWithWebIdentity', '', ''],
  ['GET', '/bucket/my-image.jpg', 'GetObject', 'bucket', 'my-image.jpg'],
  ['HEAD', '/bucket/my-image.jpg', 'HeadObject', 'bucket', 'my-image.jpg'],
  ['PUT', '/bucket/my-image.jpg', 'PutObject', 'bucket', 'my-image.jpg'],
  ['DELETE', '/bucket/my-second-image.jpg', 'DeleteObject', 'bucket', 'my-second-image.jpg'],
  ['GET', '/bucket/example-object?tagging', 'GetObjectTagging', 'bucket', 'example-object'],
  ['PUT', '/bucket/object-key?tagging', 'PutObjectTagging', 'bucket', 'object-key'],
  ['DELETE', '/bucket/exampleobject?tagging', 'DeleteObjectTagging', 'bucket', 'exampleobject'],
  ['GET', '/bucket/my-image.jpg?acl', 'GetObjectAcl', 'bucket', 'my-image.jpg'],
  ['GET', '/bucket/obj?attributes', 'GetObjectAttributes', 'bucket', 'obj'],
  ['POST', '/bucket/example-object?uploads', 'CreateMultipartUpload', 'bucket', 'example-object'],
  ['PUT', '/bucket/my-movie.m2ts?partNumber=1&uploadId=VCVsb2FkIElEIGZvciBlbZZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZR', 'UploadPart', 'bucket', 'my-movie.m2ts'],
  ['POST', '/bucket/example-object?uploadId=AAAsb2FkIElEIGZvciBlbHZpbmcncyWeeS1tb3ZpZS5tMnRzIRRwbG9hZA', 'CompleteMultipartUpload', 'bucket', 'example-object'],
  ['DELETE', '/bucket/example-object?uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZ', 'AbortMultipartUpload', 'bucket', 'example-object'],
  ['GET', '/bucket/example-object?uploadId=XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA&max-parts=2&part-number-marker=1', 'ListParts', 'bucket', 'example-object'],
  ['GET', '/bucket?policy', 'Unsupported', 'bucket', ''],
  ['GET', '/bucket?cors', 'Unsupported', 'bucket', ''],
  ['PUT', '/bucket/key?retention', 'Unsupported', 'bucket', 'key'],
];

for (const [method, target, action, bucket, key] of cases) {
  test(`${method} ${target} -> ${action}`, () => {
    const ep = parseEndpoint(method, target);
    assert.equal(ep.action, action);
    assert.equal(ep.bucket, bucket);
    assert.equal(ep.key, key);
  });
}

test('keys are percent-decoded, keep + literally, and keep every slash', () => {
  const ep = parseEndpoint('GET', '/b/a%20b/c+d/%E6%97%A5%26%3D%25//x');
  assert.equal(ep.key, 'a b/c+d/日&=%//x');
});

test('query values read + as space and decode escapes; a bare name is an empty value', () => {
  assert.deepEqual(parseQuery('prefix=a+b%2Bc&delete&max-keys=10'), { prefix: 'a b+c', delete: '', 'max-keys': '10' });
});

test('x-amz-copy-source turns PutObject into CopyObject and UploadPart into UploadPartCopy', () => {
  const h = { 'x-amz-copy-source': '/src/key' };
  assert.equal(refineWithHeaders(parseEndpoint('PUT', '/b/k'), h).action, 'CopyObject');
  assert.equal(refineWithHeaders(parseEndpoint('PUT', '/b/k?partNumber=2&uploadId=x'), h).action, 'UploadPartCopy');
  assert.equal(refineWithHeaders(parseEndpoint('PUT', '/b/k'), {}).action, 'PutObject');
});

test('malformed requests are S3 errors', () => {
  const code = (method: string, target: string) => {
    try {
      parseEndpoint(method, target);
      return 'none';
    } catch (e) {
      assert.ok(e instanceof S3Error);
      return e.code;
    }
  };
  assert.equal(code('GET', '/b/%E0%A4%A'), 'InvalidURI');
  assert.equal(code('PATCH', '/b/k'), 'MethodNotAllowed');
  assert.equal(code('POST', '/b/k'), 'MethodNotAllowed');
  assert.equal(code('GET', `/b/${'k'.repeat(1025)}`), 'KeyTooLongError');
  assert.equal(code('GET', '/b?list-type=3'), 'InvalidArgument');
});

test('a sub-resource with a method it does not take is 405 with Allow, never the plain operation', () => {
  const refused = (method: string, target: string) => {
    try {
      const ep = parseEndpoint(method, target);
      return `served as ${ep.action}`;
    } catch (e) {
      assert.ok(e instanceof S3Error);
      return `${e.status} ${e.code} Allow: ${e.headers.Allow} ${e.fields.ResourceType}`;
    }
  };
  assert.equal(refused('DELETE', '/b/k?acl'), '405 MethodNotAllowed Allow: GET, PUT OBJECT');
  assert.equal(refused('PUT', '/b/k?attributes'), '405 MethodNotAllowed Allow: GET OBJECT');
  assert.equal(refused('PUT', '/b?location'), '405 MethodNotAllowed Allow: GET BUCKET');
  assert.equal(refused('DELETE', '/b?uploads'), '405 MethodNotAllowed Allow: GET BUCKET');
  assert.equal(refused('HEAD', '/b?versioning'), '405 MethodNotAllowed Allow: GET, PUT BUCKET');
  assert.equal(refused('DELETE', '/b/k?partNumber=1'), '405 MethodNotAllowed Allow: GET, HEAD, PUT OBJECT');
  assert.equal(refused('PATCH', '/b/k'), '405 MethodNotAllowed Allow: HEAD, DELETE, POST, GET, PUT OBJECT');
  assert.equal(refused('PUT', '/'), '405 MethodNotAllowed Allow: GET, HEAD, POST SERVICE');
  // What each sub-resource does take still routes.
  assert.equal(refused('DELETE', '/b/k?tagging'), 'served as DeleteObjectTagging');
  assert.equal(refused('PUT', '/b/k?partNumber=2&uploadId=u'), 'served as UploadPart');
  assert.equal(refused('HEAD', '/b/k?partNumber=2'), 'served as HeadObject');
  assert.equal(refused('POST', '/b?delete'), 'served as DeleteObjects');
  assert.equal(refused('DELETE', '/b/k?uploadId=u'), 'served as AbortMultipartUpload');
});

test('virtual-hosted style: the bucket from the Host, the whole path as the key', () => {
  const domains = ['s3.example.test', 'localhost'];
  assert.equal(pathStyleTarget('/photos/2024/a.jpg', 'media.s3.example.test', domains), '/media/photos/2024/a.jpg');
  assert.equal(pathStyleTarget('/?list-type=2', 'media.localhost:29998', domains), '/media/?list-type=2');
  assert.equal(pathStyleTarget('/media/a.jpg', 'localhost:29998', domains), '/media/a.jpg', 'the bare domain is path style');
  assert.equal(pathStyleTarget('/media/a.jpg', '127.0.0.1:29998', domains), '/media/a.jpg');
  assert.equal(pathStyleTarget('/media/a.jpg', 'media.localhost', []), '/media/a.jpg', 'no domains: path style only');
  const ep = parseEndpoint('GET', pathStyleTarget('/dir/key%20x', 'my-bucket.localhost', domains));
  assert.deepEqual([ep.action, ep.bucket, ep.key], ['GetObject', 'my-bucket', 'dir/key x']);
  assert.equal(parseEndpoint('GET', pathStyleTarget('/', 'my-bucket.localhost', domains)).action, 'ListObjects');
});
