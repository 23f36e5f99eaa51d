"""boto3's presigned URLs against the emulator's S3 (AWS_ENDPOINT_URL): GET, PUT and HEAD through a URL made by
generate_presigned_url, sent with no credentials (urllib), are authorised as the account whose key signed them;
an expired URL is 403 AccessDenied "Request has expired" with X-Amz-Expires, Expires and ServerTime, as S3 answers;
malformed query authentication is 400 AuthorizationQueryParametersError (a table of cases)."""
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

import boto3
from botocore.config import Config

s3 = boto3.client("s3", config=Config(signature_version="s3v4"))
# boto3's default for S3 presigned URLs is still SigV2 (AWSAccessKeyId, Signature, Expires).
s3_v2 = boto3.client("s3")
BUCKET = "crts-presigned"
s3.create_bucket(Bucket=BUCKET)


def send(url, method="GET", data=None):
    request = urllib.request.Request(url, method=method, data=data)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def error_of(body):
    root = ET.fromstring(body)
    return {child.tag: child.text for child in root}


# PUT, GET and HEAD through presigned URLs, with no credentials of their own.
put = s3.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "shared.txt"}, ExpiresIn=300)
status, body, _ = send(put, "PUT", b"shared through a link")
assert status == 200, (status, body)
assert s3.get_object(Bucket=BUCKET, Key="shared.txt")["Body"].read() == b"shared through a link"
get = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "shared.txt"}, ExpiresIn=300)
status, body, _ = send(get)
assert (status, body) == (200, b"shared through a link"), (status, body)
head = s3.generate_presigned_url("head_object", Params={"Bucket": BUCKET, "Key": "shared.txt"}, ExpiresIn=300)
status, body, headers = send(head, "HEAD")
assert status == 200 and body == b"" and headers["Content-Length"] == "21", (status, body, headers)
missing = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "nope"}, ExpiresIn=300)
status, body, _ = send(missing)
assert (status, error_of(body)["Code"]) == (404, "NoSuchKey"), body

# Expired: S3's AccessDenied with the URL's own expiry and the server's time.
expired = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "shared.txt"}, ExpiresIn=1)
time.sleep(2.2)
status, body, _ = send(expired)
error = error_of(body)
assert (status, error["Code"], error["Message"]) == (403, "AccessDenied", "Request has expired"), body
assert error["X-Amz-Expires"] == "1" and error["Expires"].endswith("Z") and error["ServerTime"] > error["Expires"], error
status, body, _ = send(expired, "HEAD")
assert (status, body) == (403, b""), (status, body)

# The SigV2 URLs boto3 makes by default: the same, with SigV2's expiry (no X-Amz-Expires).
v2 = s3_v2.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "shared.txt"}, ExpiresIn=300)
assert "AWSAccessKeyId=" in v2 and "X-Amz-" not in v2, v2
status, body, _ = send(v2)
assert (status, body) == (200, b"shared through a link"), (status, body)
v2_expired = s3_v2.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "shared.txt"}, ExpiresIn=1)
time.sleep(2.2)
status, body, _ = send(v2_expired)
error = error_of(body)
assert (status, error["Message"], "X-Amz-Expires" in error) == (403, "Request has expired", False), body
assert "X-Amz-Signature=" in get and "AWSAccessKeyId" not in get, get

# Malformed query authentication: AuthorizationQueryParametersError, naming what is wrong.
def tampered(name, value):
    parts = urllib.parse.urlsplit(get)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query) if k != name]
    if value is not None:
        query.append((name, value))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


CASES = [
    ("X-Amz-Date", None, "Query-string authentication version 4 requires"),
    ("X-Amz-Algorithm", "AWS4-HMAC-SHA1", 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"'),
    ("X-Amz-Credential", "AKID/20261204", "the Credential is mal-formed"),
    ("X-Amz-Date", "2026-12-04", "ISO8601 Long Format"),
    ("X-Amz-Expires", "-5", "X-Amz-Expires must be non-negative"),
    ("X-Amz-Expires", "604801", "604800 seconds"),
]
for name, value, words in CASES:
    status, body, _ = send(tampered(name, value))
    error = error_of(body)
    assert (status, error["Code"]) == (400, "AuthorizationQueryParametersError"), (name, value, body)
    assert words in error["Message"], (name, value, error)

s3.delete_object(Bucket=BUCKET, Key="shared.txt")
s3.delete_bucket(Bucket=BUCKET)
print("s3 presigned: ok")
