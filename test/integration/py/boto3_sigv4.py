"""boto3 (Debian's python3-boto3) against a worker in SIGV4 mode.

Usage: /usr/bin/python3 boto3_sigv4.py <endpoint> <access key> <secret key>. Puts, gets and lists
keys that need encoding, uploads in parts, checks that a wrong secret is refused, and prints
presigned GET and PUT URLs as JSON (for curl) before OK.
"""
import io
import json
import sys

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

endpoint, access_key, secret_key = sys.argv[1:4]
config = botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, signature_version="s3v4")


def client(secret):
    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=access_key, aws_secret_access_key=secret,
                        region_name="us-east-1", config=config)


s3 = client(secret_key)
keys = ["py/a b+c.txt", "py/100%.txt", "py/x=y&z~w.txt", "py/ünïcødé €.txt", "py/(1)!*'.txt"]
for k in keys:
    s3.put_object(Bucket="data", Key=k, Body=("body of " + k).encode())
    assert s3.get_object(Bucket="data", Key=k)["Body"].read() == ("body of " + k).encode(), k
listed = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="data", Prefix="py/")["Contents"])
assert listed == sorted(keys), listed
assert [o["Key"] for o in s3.list_objects(Bucket="data", Prefix="py/x=y&")["Contents"]] == ["py/x=y&z~w.txt"]

big = bytes(range(256)) * (12 * 4096)  # 12 MiB: a multipart upload
s3.upload_fileobj(io.BytesIO(big), "data", "py/big file.bin",
                  Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
out = io.BytesIO()
s3.download_fileobj("data", "py/big file.bin", out)
assert out.getvalue() == big

try:
    client("wrong-secret").get_object(Bucket="data", Key=keys[0])
    raise AssertionError("a wrong secret was accepted")
except ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response

urls = {
    "get": s3.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": keys[0]}, ExpiresIn=300),
    "put": s3.generate_presigned_url("put_object", Params={"Bucket": "data", "Key": "py/presigned put=1.txt"}, ExpiresIn=300),
}
print(json.dumps(urls))
print("OK")
