"""boto3 against the emulator's S3 (AWS_ENDPOINT_URL) the way an outside S3 conformance suite and cleanup tools
(aws-nuke, Terraform's force_destroy, boto3's `bucket.objects.all().delete()`) exercise it: listings with prefixes,
delimiters and markers, keys with special names, multipart retries, part checksums and UploadPartCopy, versioning
(version ids, delete markers, ListObjectVersions, emptying and deleting a versioned bucket), conditional writes,
and Object Ownership."""
import base64
import hashlib
import uuid

import boto3
from botocore.exceptions import ClientError

s3 = boto3.client("s3")
resource = boto3.resource("s3")


def expect_error(status, code, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        got = (error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"])
        assert got == (status, code), (got, error.response)
        return error.response
    raise AssertionError(f"expected {status} {code}")


def new_bucket(name):
    bucket = f"conf-{name}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return bucket


def with_keys(name, keys):
    bucket = new_bucket(name)
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def listed(response):
    keys = [o["Key"] for o in response.get("Contents", [])]
    prefixes = [p["Prefix"] for p in response.get("CommonPrefixes", [])]
    return keys, prefixes


def v1(bucket, prefix, delimiter, marker, max_keys, truncated, keys, prefixes, next_marker):
    """One ListObjects page, checked the way the conformance suite checks it; returns NextMarker."""
    response = s3.list_objects(Bucket=bucket, Prefix=prefix, Delimiter=delimiter, Marker=marker, MaxKeys=max_keys)
    assert response["IsTruncated"] == truncated, response
    assert listed(response) == (keys, prefixes), (listed(response), keys, prefixes)
    assert response.get("NextMarker") == next_marker, response
    return response.get("NextMarker")


def listing():
    # Prefix + delimiter: keys under a deeper "directory" roll into its common prefix, which counts as one entry.
    for p in ["", "_"]:
        keys = [f"{p}asdf", f"{p}boo/bar", f"{p}boo/baz/xyzzy", f"{p}cquux/thud", f"{p}cquux/bla"]
        bucket = with_keys("delim", keys)
        m = v1(bucket, "", "/", "", 1, True, [f"{p}asdf"], [], f"{p}asdf")
        m = v1(bucket, "", "/", m, 1, True, [], [f"{p}boo/"], f"{p}boo/")
        v1(bucket, "", "/", m, 1, False, [], [f"{p}cquux/"], None)
        m = v1(bucket, "", "/", "", 2, True, [f"{p}asdf"], [f"{p}boo/"], f"{p}boo/")
        v1(bucket, "", "/", m, 2, False, [], [f"{p}cquux/"], None)
        m = v1(bucket, f"{p}boo/", "/", "", 1, True, [f"{p}boo/bar"], [], f"{p}boo/bar")
        v1(bucket, f"{p}boo/", "/", m, 1, False, [], [f"{p}boo/baz/"], None)
        v1(bucket, f"{p}boo/", "/", "", 2, False, [f"{p}boo/bar"], [f"{p}boo/baz/"], None)
        # V2: the same pages through continuation tokens.
        pages, token = [], None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            r = s3.list_objects_v2(Bucket=bucket, Delimiter="/", MaxKeys=1, **extra)
            pages.append(listed(r))
            assert r["KeyCount"] == 1, r
            if not r["IsTruncated"]:
                break
            token = r["NextContinuationToken"]
        assert pages == [([f"{p}asdf"], []), ([], [f"{p}boo/"]), ([], [f"{p}cquux/"])], pages
        r = s3.list_objects_v2(Bucket=bucket, Prefix=f"{p}boo/", Delimiter="/")
        assert listed(r) == ([f"{p}boo/bar"], [f"{p}boo/baz/"]), r
    # Delimiters other than "/".
    bucket = with_keys("alt", ["bar", "baz", "cab", "foo"])
    r = s3.list_objects(Bucket=bucket, Delimiter="a")
    assert listed(r) == (["foo"], ["ba", "ca"]) and r["Delimiter"] == "a", r
    r = s3.list_objects_v2(Bucket=bucket, Delimiter="a", Prefix="b")
    assert listed(r) == ([], ["ba"]), r
    r = s3.list_objects(Bucket=bucket, Delimiter="")
    assert listed(r) == (["bar", "baz", "cab", "foo"], []) and "Delimiter" not in r, r
    # MaxKeys=0: an empty, untruncated page.
    r = s3.list_objects_v2(Bucket=bucket, MaxKeys=0)
    assert (r["KeyCount"], r["IsTruncated"], r.get("Contents")) == (0, False, None), r
    r = s3.list_objects(Bucket=bucket, MaxKeys=0)
    assert (r["IsTruncated"], r.get("Contents")) == (False, None), r
    # Markers: none, past the end, between keys; V1 has no NextMarker without a delimiter.
    r = s3.list_objects(Bucket=bucket, Marker="zzz")
    assert (r["Marker"], r["IsTruncated"], r.get("Contents")) == ("zzz", False, None), r
    r = s3.list_objects(Bucket=bucket, Marker="bb", MaxKeys=1)
    assert listed(r) == (["cab"], []) and r["IsTruncated"] and "NextMarker" not in r, r
    r = s3.list_objects_v2(Bucket=bucket, StartAfter="bar", MaxKeys=2)
    assert listed(r) == (["baz", "cab"], []) and r["StartAfter"] == "bar", r
    # Owner: V1 always, V2 only with FetchOwner; an ID, no DisplayName (S3 stopped returning it in 2025).
    owner = s3.list_objects(Bucket=bucket)["Contents"][0]["Owner"]
    assert len(owner["ID"]) == 64 and "DisplayName" not in owner, owner
    assert "Owner" not in s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]["Owner"] == owner
    # Keys with special names list (boto3 asks for EncodingType=url and decodes), delete, and empty the bucket.
    special = ["0", "_", "%", " ", "_ _", "a+b", "a b/c", "\u00e9t\u00e9", "&<>\"'", "__", "x%2Fy"]
    bucket = with_keys("special", special)
    r = s3.list_objects(Bucket=bucket, Delimiter="/")
    assert listed(r) == (sorted(k for k in special if "/" not in k), ["a b/"]), listed(r)
    # Asked for explicitly, botocore leaves the encoding to the caller: S3 escapes all but unreserved bytes and "/".
    raw = s3.list_objects_v2(Bucket=bucket, EncodingType="url", Prefix="a")
    assert [o["Key"] for o in raw["Contents"]] == ["a%20b/c", "a%2Bb"], raw
    assert s3.get_object(Bucket=bucket, Key="%")["Body"].read() == b"%"
    s3.delete_object(Bucket=bucket, Key="0")
    s3.delete_object(Bucket=bucket, Key=" ")
    resource.Bucket(bucket).objects.all().delete()
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    s3.delete_bucket(Bucket=bucket)
    expect_error(404, "NoSuchBucket", s3.list_objects_v2, Bucket=bucket)


listing()
print("s3_conformance: ok")
