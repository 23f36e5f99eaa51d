"""boto3 against the emulator's S3 (AWS_ENDPOINT_URL): buckets, objects with boto3's default flexible checksums
(an x-amz-checksum-crc32 header: botocore sends trailers only over https; tests/it/s3_sdk.rs covers aws-chunked),
multipart uploads (upload_file / download_file and the raw calls with their refusals), Block Public Access, bucket
policy, CORS, the website endpoint, and anonymous requests (urllib, no signature) judged by the bucket policy."""
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
PORT = urllib.parse.urlparse(ENDPOINT).port
s3 = boto3.client("s3")
BUCKET = "crts-smoke-site"


def expect_error(code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        assert error.response["Error"]["Code"] == code, error.response
        return error.response
    raise AssertionError("expected " + code)


def anonymous(method, path, host=None, headers=None, data=None):
    """An unsigned request to the emulator, optionally with another Host (virtual-host or website forms)."""
    headers = dict(headers or {})
    if host:
        headers["Host"] = f"{host}:{PORT}"
    req = urllib.request.Request(ENDPOINT + path, method=method, headers=headers, data=data)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


# Buckets.
s3.create_bucket(Bucket=BUCKET)
assert any(b["Name"] == BUCKET for b in s3.list_buckets()["Buckets"])
s3.head_bucket(Bucket=BUCKET)
expect_error("InvalidBucketName", s3.create_bucket, Bucket="Not_Valid")
expect_error("404", s3.head_bucket, Bucket="no-such-bucket-here")
expect_error("NoSuchBucket", s3.list_objects_v2, Bucket="no-such-bucket-here")
eu = boto3.client("s3", region_name="eu-west-1")
eu.create_bucket(Bucket="crts-smoke-eu", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
assert s3.get_bucket_location(Bucket="crts-smoke-eu")["LocationConstraint"] == "eu-west-1"
expect_error("BucketAlreadyOwnedByYou", eu.create_bucket, Bucket="crts-smoke-eu",
             CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
expect_error("IllegalLocationConstraintException", eu.create_bucket, Bucket="crts-smoke-eu2")

# Block Public Access starts on: a public policy is refused until it is lifted.
pab = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
assert all(pab.values()) and len(pab) == 4, pab
policy = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
refused = expect_error("AccessDenied", s3.put_bucket_policy, Bucket=BUCKET, Policy=policy)
assert "BlockPublicPolicy" in refused["Error"]["Message"], refused
s3.delete_public_access_block(Bucket=BUCKET)
expect_error("NoSuchPublicAccessBlockConfiguration", s3.get_public_access_block, Bucket=BUCKET)
expect_error("MalformedPolicy", s3.put_bucket_policy, Bucket=BUCKET, Policy="{not json")
expect_error("NoSuchBucketPolicy", s3.get_bucket_policy, Bucket=BUCKET)

# Objects, with boto3's default checksums.
put = s3.put_object(Bucket=BUCKET, Key="index.html", Body=b"<html>home</html>", ContentType="text/html",
                     Metadata={"owner": "crts"})
assert put["ETag"].startswith('"'), put
s3.put_object(Bucket=BUCKET, Key="docs/index.html", Body=b"<html>docs</html>", ContentType="text/html")
s3.put_object(Bucket=BUCKET, Key="error.html", Body=b"<html>oops</html>", ContentType="text/html")
s3.put_object(Bucket=BUCKET, Key="data.bin", Body=bytes(range(256)) * 4, ChecksumAlgorithm="SHA256")
with open(__file__, "rb") as handle:
    s3.upload_fileobj(handle, BUCKET, "upload/script.py")
got = s3.get_object(Bucket=BUCKET, Key="index.html", ChecksumMode="ENABLED")
assert got["Body"].read() == b"<html>home</html>" and got["ContentType"] == "text/html", got
assert got["Metadata"] == {"owner": "crts"} and got["ETag"] == put["ETag"], got
ranged = s3.get_object(Bucket=BUCKET, Key="data.bin", Range="bytes=0-9")
assert ranged["ContentRange"] == "bytes 0-9/1024" and ranged["Body"].read() == bytes(range(10)), ranged
assert s3.head_object(Bucket=BUCKET, Key="data.bin")["ContentLength"] == 1024
expect_error("NoSuchKey", s3.get_object, Bucket=BUCKET, Key="missing")
expect_error("InvalidRange", s3.get_object, Bucket=BUCKET, Key="data.bin", Range="bytes=5000-")
s3.copy_object(Bucket=BUCKET, Key="copy.html", CopySource={"Bucket": BUCKET, "Key": "index.html"})
assert s3.get_object(Bucket=BUCKET, Key="copy.html")["Body"].read() == b"<html>home</html>"
listing = s3.list_objects_v2(Bucket=BUCKET, Delimiter="/")
assert [p["Prefix"] for p in listing["CommonPrefixes"]] == ["docs/", "upload/"], listing
assert [o["Key"] for o in listing["Contents"]] == ["copy.html", "data.bin", "error.html", "index.html"], listing
pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 2}))
assert sum(p["KeyCount"] for p in pages) == 6 and len(pages) == 3, pages
deleted = s3.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": "copy.html"}, {"Key": "upload/script.py"}]})
assert sorted(d["Key"] for d in deleted["Deleted"]) == ["copy.html", "upload/script.py"], deleted
expect_error("BucketNotEmpty", s3.delete_bucket, Bucket=BUCKET)

# Anonymous reads: denied until the policy allows them, then only what it allows.
status, _, body = anonymous("GET", f"/{BUCKET}/index.html")
assert status == 403 and "<Code>AccessDenied</Code>" in body, (status, body)
s3.put_bucket_policy(Bucket=BUCKET, Policy=policy)
assert json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"]) == json.loads(policy)
assert anonymous("GET", f"/{BUCKET}/index.html")[0] == 200
assert anonymous("GET", "/index.html", host=f"{BUCKET}.s3.localhost.localstack.cloud")[0] == 200
assert anonymous("GET", f"/{BUCKET}/missing")[0] == 403  # no s3:ListBucket: S3 does not say it is missing
assert anonymous("PUT", f"/{BUCKET}/x", data=b"x")[0] == 403
assert anonymous("GET", f"/{BUCKET}?list-type=2")[0] == 403
s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
    "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})
assert anonymous("GET", f"/{BUCKET}/index.html")[0] == 403  # RestrictPublicBuckets overrides the public policy
s3.delete_public_access_block(Bucket=BUCKET)

# CORS: PUT/POST from any origin, DELETE refused, no Origin is a bad request.
expect_error("NoSuchCORSConfiguration", s3.get_bucket_cors, Bucket=BUCKET)
expect_error("InvalidRequest", s3.put_bucket_cors, Bucket=BUCKET, CORSConfiguration={"CORSRules": [
    {"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]})
s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [{
    "AllowedHeaders": ["*"], "AllowedMethods": ["PUT", "POST"], "AllowedOrigins": ["*"], "ExposeHeaders": []}]})
assert s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"][0]["AllowedMethods"] == ["PUT", "POST"]
status, headers, _ = anonymous("OPTIONS", f"/{BUCKET}/index.html", headers={
    "Origin": "http://example.org", "Access-Control-Request-Method": "PUT",
    "Access-Control-Request-Headers": "content-type"})
assert status == 200 and headers["Access-Control-Allow-Origin"] == "*", (status, dict(headers))
assert headers["Access-Control-Allow-Methods"] == "PUT, POST", dict(headers)
status, _, body = anonymous("OPTIONS", f"/{BUCKET}/index.html", headers={
    "Origin": "http://example.org", "Access-Control-Request-Method": "DELETE"})
assert status == 403 and "This CORS request is not allowed" in body, (status, body)
assert anonymous("OPTIONS", f"/{BUCKET}/index.html", headers={"Access-Control-Request-Method": "PUT"})[0] == 400

# Website hosting and its endpoint.
expect_error("NoSuchWebsiteConfiguration", s3.get_bucket_website, Bucket=BUCKET)
site = f"{BUCKET}.s3-website.localhost"
status, _, body = anonymous("GET", "/", host=site)
assert status == 404 and "NoSuchWebsiteConfiguration" in body, (status, body)
s3.put_bucket_website(Bucket=BUCKET, WebsiteConfiguration={
    "IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}})
assert s3.get_bucket_website(Bucket=BUCKET)["IndexDocument"] == {"Suffix": "index.html"}
status, headers, body = anonymous("GET", "/", host=site)
assert status == 200 and body == "<html>home</html>" and headers["Content-Type"] == "text/html", (status, body)
assert anonymous("GET", "/docs/", host=site)[2] == "<html>docs</html>"
status, headers, _ = anonymous("GET", "/docs", host=site)
assert status == 302 and headers["Location"] == "/docs/", (status, dict(headers))
status, _, body = anonymous("GET", "/nope.html", host=site)
assert status == 404 and body == "<html>oops</html>", (status, body)  # the error document, with 404
s3.delete_object(Bucket=BUCKET, Key="error.html")
status, headers, body = anonymous("GET", "/nope.html", host=f"{BUCKET}.s3-website-us-east-1.amazonaws.com")
assert status == 404 and "<li>Code: NoSuchKey</li>" in body and "text/html" in headers["Content-Type"], body
assert anonymous("POST", "/", host=site)[0] == 405
s3.delete_bucket_policy(Bucket=BUCKET)
status, _, body = anonymous("GET", "/", host=site)
assert status == 403 and "<li>Code: AccessDenied</li>" in body, (status, body)

# Multipart uploads: the transfer manager splits a 12 MiB file into 5 MiB parts and reads it back in ranges.
MPU = "crts-smoke-multipart"
s3.create_bucket(Bucket=MPU)
small_parts = TransferConfig(multipart_threshold=5 * 2**20, multipart_chunksize=5 * 2**20, max_concurrency=3)
big = os.urandom(12 * 2**20)
with tempfile.TemporaryDirectory() as work:
    with open(os.path.join(work, "big.bin"), "wb") as handle:
        handle.write(big)
    s3.upload_file(os.path.join(work, "big.bin"), MPU, "big.bin", Config=small_parts,
                   ExtraArgs={"ContentType": "application/x-crts", "Metadata": {"job": "crts"}})
    head = s3.head_object(Bucket=MPU, Key="big.bin")
    assert head["ContentLength"] == len(big) and head["ETag"].endswith('-3"'), head
    assert head["ContentType"] == "application/x-crts" and head["Metadata"] == {"job": "crts"}, head
    s3.download_file(MPU, "big.bin", os.path.join(work, "back.bin"), Config=small_parts)
    with open(os.path.join(work, "back.bin"), "rb") as handle:
        assert handle.read() == big
assert s3.list_multipart_uploads(Bucket=MPU).get("Uploads", []) == []

# The raw calls, and what S3 refuses.
upload = s3.create_multipart_upload(Bucket=MPU, Key="raw.bin", ChecksumAlgorithm="CRC32")
upload_id = upload["UploadId"]
assert upload["ChecksumAlgorithm"] == "CRC32", upload
first = s3.upload_part(Bucket=MPU, Key="raw.bin", UploadId=upload_id, PartNumber=1, Body=b"a" * 100,
                       ChecksumAlgorithm="CRC32")
second = s3.upload_part(Bucket=MPU, Key="raw.bin", UploadId=upload_id, PartNumber=2, Body=b"b" * 10,
                        ChecksumAlgorithm="CRC32")
parts = s3.list_parts(Bucket=MPU, Key="raw.bin", UploadId=upload_id)["Parts"]
assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in parts] == [(1, 100, first["ETag"]), (2, 10, second["ETag"])]
assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=MPU)["Uploads"]] == [upload_id]
named = [{"PartNumber": 1, "ETag": first["ETag"], "ChecksumCRC32": first["ChecksumCRC32"]},
         {"PartNumber": 2, "ETag": second["ETag"], "ChecksumCRC32": second["ChecksumCRC32"]}]
expect_error("EntityTooSmall", s3.complete_multipart_upload, Bucket=MPU, Key="raw.bin", UploadId=upload_id,
             MultipartUpload={"Parts": named})
expect_error("InvalidPartOrder", s3.complete_multipart_upload, Bucket=MPU, Key="raw.bin", UploadId=upload_id,
             MultipartUpload={"Parts": named[::-1]})
expect_error("InvalidPart", s3.complete_multipart_upload, Bucket=MPU, Key="raw.bin", UploadId=upload_id,
             MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": second["ETag"]}]})
expect_error("InvalidArgument", s3.upload_part, Bucket=MPU, Key="raw.bin", UploadId=upload_id, PartNumber=10001,
             Body=b"x")
expect_error("NoSuchUpload", s3.upload_part, Bucket=MPU, Key="other.bin", UploadId=upload_id, PartNumber=1, Body=b"x")
# A 5 MiB first part makes it valid: the object is the parts' bytes, with S3's multipart ETag and checksum.
first = s3.upload_part(Bucket=MPU, Key="raw.bin", UploadId=upload_id, PartNumber=1, Body=b"a" * 5 * 2**20,
                       ChecksumAlgorithm="CRC32")
named[0] = {"PartNumber": 1, "ETag": first["ETag"], "ChecksumCRC32": first["ChecksumCRC32"]}
done = s3.complete_multipart_upload(Bucket=MPU, Key="raw.bin", UploadId=upload_id, MultipartUpload={"Parts": named})
assert done["ETag"].endswith('-2"') and done["ChecksumCRC32"].endswith("-2"), done
got = s3.get_object(Bucket=MPU, Key="raw.bin", ChecksumMode="ENABLED")
assert got["Body"].read() == b"a" * 5 * 2**20 + b"b" * 10 and got["ETag"] == done["ETag"], got
assert got["ChecksumCRC32"] == done["ChecksumCRC32"] and got["ChecksumType"] == "COMPOSITE", got
expect_error("NoSuchUpload", s3.list_parts, Bucket=MPU, Key="raw.bin", UploadId=upload_id)
aborted = s3.create_multipart_upload(Bucket=MPU, Key="gone.bin")["UploadId"]
s3.abort_multipart_upload(Bucket=MPU, Key="gone.bin", UploadId=aborted)
expect_error("NoSuchUpload", s3.abort_multipart_upload, Bucket=MPU, Key="gone.bin", UploadId=aborted)
for key in ("big.bin", "raw.bin"):
    s3.delete_object(Bucket=MPU, Key=key)
s3.delete_bucket(Bucket=MPU)

# Clean up as a user would.
for obj in s3.list_objects_v2(Bucket=BUCKET)["Contents"]:
    s3.delete_object(Bucket=BUCKET, Key=obj["Key"])
s3.delete_bucket(Bucket=BUCKET)
expect_error("404", s3.head_bucket, Bucket=BUCKET)
print("s3 smoke: ok")
