"""boto3 (Debian's python3-boto3) against a Strata worker: the flows a Python user runs.

Usage: /usr/bin/python3 boto3_flow.py <endpoint-url>
Prints a final line OK on success; on any failure prints the traceback and exits non-zero.
"""
import hashlib
import io
import os
import sys
import traceback

import boto3
import botocore.config
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError


def error_of(fn, *args, **kwargs):
    """Calls fn and returns (code, http status) of the S3 error it must raise."""
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("expected %s to fail" % getattr(fn, "__name__", fn))


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main(endpoint):
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testuser",
        aws_secret_access_key="testpassword",
        region_name="us-east-1",
        config=botocore.config.Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )

    # Buckets.
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    check("data" in names, "list_buckets shows data: %r" % names)
    s3.create_bucket(Bucket="py-bucket")
    check("py-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]], "created bucket listed")
    s3.head_bucket(Bucket="py-bucket")
    check(s3.create_bucket(Bucket="py-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 200, "create twice in us-east-1 succeeds")
    code, status = error_of(s3.head_bucket, Bucket="py-missing-bucket")
    check(status == 404, "head of a missing bucket is 404, got %r %r" % (code, status))

    # Objects with metadata.
    body = b"hello from boto3 \xe2\x9c\x93"
    put = s3.put_object(Bucket="py-bucket", Key="dir/obj.txt", Body=body, ContentType="text/plain",
                        Metadata={"owner": "python", "multi-word": "a b c"})
    check(put["ETag"] == '"%s"' % hashlib.md5(body).hexdigest(), "put ETag is the MD5: %r" % put["ETag"])
    got = s3.get_object(Bucket="py-bucket", Key="dir/obj.txt")
    check(got["Body"].read() == body, "get returns the bytes")
    check(got["ContentType"] == "text/plain", "content type: %r" % got["ContentType"])
    check(got["Metadata"] == {"owner": "python", "multi-word": "a b c"}, "metadata on get: %r" % got["Metadata"])
    head = s3.head_object(Bucket="py-bucket", Key="dir/obj.txt")
    check(head["ContentLength"] == len(body), "head length")
    check(head["Metadata"] == {"owner": "python", "multi-word": "a b c"}, "metadata on head: %r" % head["Metadata"])
    check(head["ETag"] == put["ETag"], "head ETag")
    part = s3.get_object(Bucket="py-bucket", Key="dir/obj.txt", Range="bytes=0-4")
    check(part["Body"].read() == b"hello", "range read")
    check(part["ResponseMetadata"]["HTTPStatusCode"] == 206, "range is 206")
    check(part["ContentRange"] == "bytes 0-4/%d" % len(body), "content range: %r" % part["ContentRange"])
    check(error_of(s3.get_object, Bucket="py-bucket", Key="dir/missing") == ("NoSuchKey", 404), "NoSuchKey")
    check(error_of(s3.head_object, Bucket="py-bucket", Key="dir/missing")[1] == 404, "head missing is 404")
    code, status = error_of(s3.put_object, Bucket="py-bucket", Key="big-meta", Body=b"x",
                            Metadata={"big": "v" * 2100})
    check((code, status) == ("MetadataTooLarge", 400), "metadata over 2 KB: %r %r" % (code, status))

    # Keys needing escaping.
    odd = ["odd/with space.txt", "odd/ünï cødé.txt", "odd/100%.txt", "odd/a+b&c=d.txt"]
    for k in odd:
        s3.put_object(Bucket="py-bucket", Key=k, Body=k.encode())
        check(s3.get_object(Bucket="py-bucket", Key=k)["Body"].read() == k.encode(), "round trip of %r" % k)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket="py-bucket", Prefix="odd/")["Contents"]]
    check(listed == sorted(odd, key=lambda s: s.encode()), "odd keys listed in byte order: %r" % listed)
    # boto3 asks for encoding-type=url by default on list_objects and decodes: keys come back whole.
    listed_v1 = [o["Key"] for o in s3.list_objects(Bucket="py-bucket", Prefix="odd/")["Contents"]]
    check(listed_v1 == listed, "list_objects (v1) decodes the same keys: %r" % listed_v1)

    # Paginate list_objects_v2 with a small page size.
    keys = ["page/%02d" % i for i in range(11)] + ["page/sub/a", "page/sub/b", "page/a-b", "page/a0"]
    for k in keys:
        s3.put_object(Bucket="py-bucket", Key=k, Body=b"p")
    seen = []
    pages = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="py-bucket", Prefix="page/",
                                                             PaginationConfig={"PageSize": 3}):
        pages += 1
        check(page["KeyCount"] <= 3, "a page holds at most 3 keys")
        seen.extend(o["Key"] for o in page.get("Contents", []))
    check(seen == sorted(keys, key=lambda s: s.encode()), "every key once, in order: %r" % seen)
    check(pages == 5, "15 keys in pages of 3: %d pages" % pages)
    entries = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="py-bucket", Prefix="page/", Delimiter="/",
                                                             PaginationConfig={"PageSize": 2}):
        entries.extend(o["Key"] for o in page.get("Contents", []))
        entries.extend(p["Prefix"] for p in page.get("CommonPrefixes", []))
    expected = sorted([k for k in keys if not k.startswith("page/sub/")] + ["page/sub/"], key=lambda s: s.encode())
    check(sorted(entries, key=lambda s: s.encode()) == expected, "delimited pages: %r" % entries)
    v1 = []
    for page in s3.get_paginator("list_objects").paginate(Bucket="py-bucket", Prefix="page/",
                                                          PaginationConfig={"PageSize": 4}):
        v1.extend(o["Key"] for o in page.get("Contents", []))
    check(v1 == seen, "list_objects (v1) paginator: %r" % v1)

    # delete_objects (verbose and quiet).
    out = s3.delete_objects(Bucket="py-bucket", Delete={"Objects": [{"Key": k} for k in keys[:5]]})
    check(sorted(d["Key"] for d in out.get("Deleted", [])) == sorted(keys[:5]), "verbose delete: %r" % out)
    check(not out.get("Errors"), "no errors: %r" % out.get("Errors"))
    out = s3.delete_objects(Bucket="py-bucket", Delete={"Quiet": True, "Objects": [{"Key": k} for k in keys[5:]]})
    check(not out.get("Deleted") and not out.get("Errors"), "quiet delete: %r" % out)
    check(s3.list_objects_v2(Bucket="py-bucket", Prefix="page/")["KeyCount"] == 0, "all deleted")

    # upload_fileobj / download_fileobj of 2 MiB (below the multipart threshold).
    data = os.urandom(2 * 1024 * 1024)
    cfg = TransferConfig(multipart_threshold=8 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(data), "py-bucket", "transfer/two-mib.bin", Config=cfg)
    check(s3.head_object(Bucket="py-bucket", Key="transfer/two-mib.bin")["ContentLength"] == len(data), "uploaded size")
    check(s3.head_object(Bucket="py-bucket", Key="transfer/two-mib.bin")["ETag"]
          == '"%s"' % hashlib.md5(data).hexdigest(), "single-part upload ETag")
    sink = io.BytesIO()
    s3.download_fileobj("py-bucket", "transfer/two-mib.bin", sink, Config=cfg)
    check(sink.getvalue() == data, "download_fileobj returns the same bytes")

    # Deletes, then the bucket goes.
    check(error_of(s3.delete_bucket, Bucket="py-bucket") == ("BucketNotEmpty", 409), "BucketNotEmpty")
    d = s3.delete_object(Bucket="py-bucket", Key="dir/obj.txt")
    check(d["ResponseMetadata"]["HTTPStatusCode"] == 204, "delete_object is 204")
    d = s3.delete_object(Bucket="py-bucket", Key="dir/obj.txt")
    check(d["ResponseMetadata"]["HTTPStatusCode"] == 204, "delete of a missing key is 204")
    check(error_of(s3.head_object, Bucket="py-bucket", Key="dir/obj.txt")[1] == 404, "deleted object is gone")
    rest = [o["Key"] for o in s3.list_objects_v2(Bucket="py-bucket").get("Contents", [])]
    if rest:
        s3.delete_objects(Bucket="py-bucket", Delete={"Objects": [{"Key": k} for k in rest]})
    s3.delete_bucket(Bucket="py-bucket")
    check("py-bucket" not in [b["Name"] for b in s3.list_buckets()["Buckets"]], "bucket deleted")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: boto3_flow.py <endpoint-url>", file=sys.stderr)
        sys.exit(2)
    try:
        main(sys.argv[1])
    except Exception:  # noqa: BLE001 - the test wants the traceback
        traceback.print_exc()
        sys.exit(1)
    print("OK")
