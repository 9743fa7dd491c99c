"""boto3 (Debian's python3-boto3) against a Strata worker: the flows a Python user runs.

Usage: /usr/bin/python3 boto3_smoke.py <endpoint>. Prints OK on success; raises otherwise.
"""
import hashlib
import io
import os
import sys

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    aws_access_key_id="pyuser",
    aws_secret_access_key="placeholder",
    region_name="us-east-1",
    config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
)


def error_code(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("expected an error")


names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
assert "data" in names, names

s3.create_bucket(Bucket="pybucket")
assert s3.create_bucket(Bucket="pybucket")["ResponseMetadata"]["HTTPStatusCode"] == 200  # us-east-1: again is fine
s3.head_bucket(Bucket="pybucket")

body = os.urandom(100_000)
put = s3.put_object(Bucket="pybucket", Key="dir/obj.bin", Body=body, ContentType="application/x-py", Metadata={"origin": "boto3"})
assert put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), put["ETag"]
head = s3.head_object(Bucket="pybucket", Key="dir/obj.bin")
assert head["ContentLength"] == len(body)
assert head["ContentType"] == "application/x-py"
assert head["Metadata"] == {"origin": "boto3"}, head["Metadata"]
got = s3.get_object(Bucket="pybucket", Key="dir/obj.bin", Range="bytes=10-19")
assert got["Body"].read() == body[10:20]
assert got["ContentRange"] == "bytes 10-19/%d" % len(body)

for i in range(7):
    s3.put_object(Bucket="pybucket", Key="page/%02d" % i, Body=b"x")
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="pybucket", Prefix="page/", PaginationConfig={"PageSize": 3}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert keys == ["page/%02d" % i for i in range(7)], keys
v1 = []
for page in s3.get_paginator("list_objects").paginate(Bucket="pybucket", Prefix="page/", PaginationConfig={"PageSize": 2}):
    v1 += [o["Key"] for o in page.get("Contents", [])]
assert v1 == keys, v1
top = s3.list_objects_v2(Bucket="pybucket", Delimiter="/")
assert [p["Prefix"] for p in top.get("CommonPrefixes", [])] == ["dir/", "page/"], top

# upload_fileobj / download_fileobj, below and above a small multipart threshold.
config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
for size in (2 * 1024 * 1024, 13 * 1024 * 1024):
    data = os.urandom(size)
    s3.upload_fileobj(io.BytesIO(data), "pybucket", "transfer/%d" % size, Config=config)
    out = io.BytesIO()
    s3.download_fileobj("pybucket", "transfer/%d" % size, out, Config=config)
    assert out.getvalue() == data, size
assert s3.head_object(Bucket="pybucket", Key="transfer/%d" % (13 * 1024 * 1024))["ETag"].endswith('-3"')

deleted = s3.delete_objects(Bucket="pybucket", Delete={"Objects": [{"Key": k} for k in keys]})
assert len(deleted["Deleted"]) == 7
assert error_code(s3.get_object, Bucket="pybucket", Key="page/00") == "NoSuchKey"
assert error_code(s3.delete_bucket, Bucket="pybucket") == "BucketNotEmpty"
for k in ["dir/obj.bin", "transfer/%d" % (2 * 1024 * 1024), "transfer/%d" % (13 * 1024 * 1024)]:
    s3.delete_object(Bucket="pybucket", Key=k)
s3.delete_bucket(Bucket="pybucket")
assert error_code(s3.head_bucket, Bucket="pybucket") == "404"
print("OK")
