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


def multipart():
    bucket = new_bucket("mpu")
    part1, part2 = b"a" * (5 * 1024 * 1024), b"tail"
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    e1 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=2, Body=part2)["ETag"]
    parts = {"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]}
    first = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload=parts)
    # An SDK retry of the same completion gets the same answer; other parts do not.
    again = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload=parts)
    assert again["ETag"] == first["ETag"] and first["ETag"].endswith('-2"'), (first, again)
    expect_error(400, "InvalidPart", s3.complete_multipart_upload, Bucket=bucket, Key="big", UploadId=upload,
                 MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e2}]})
    expect_error(404, "NoSuchUpload", s3.complete_multipart_upload, Bucket=bucket, Key="other", UploadId=upload,
                 MultipartUpload=parts)
    # Declared part checksums are verified.
    upload = s3.create_multipart_upload(Bucket=bucket, Key="sums", ChecksumAlgorithm="SHA256")["UploadId"]
    wrong = base64.b64encode(hashlib.sha256(b"other").digest()).decode()
    err = expect_error(400, "BadDigest", s3.upload_part, Bucket=bucket, Key="sums", UploadId=upload, PartNumber=1,
                       Body=b"part", ChecksumSHA256=wrong)
    assert err["Error"]["Message"] == "The SHA256 you specified did not match the calculated checksum.", err
    good = base64.b64encode(hashlib.sha256(b"part").digest()).decode()
    r = s3.upload_part(Bucket=bucket, Key="sums", UploadId=upload, PartNumber=1, Body=b"part", ChecksumSHA256=good)
    assert r["ChecksumSHA256"] == good, r
    named = {"Parts": [{"PartNumber": 1, "ETag": r["ETag"], "ChecksumSHA256": good}]}
    expect_error(400, "BadDigest", s3.complete_multipart_upload, Bucket=bucket, Key="sums", UploadId=upload,
                 MultipartUpload=named, ChecksumSHA256=wrong)
    composite = base64.b64encode(hashlib.sha256(hashlib.sha256(b"part").digest()).digest()).decode()
    done = s3.complete_multipart_upload(Bucket=bucket, Key="sums", UploadId=upload, MultipartUpload=named,
                                        ChecksumSHA256=composite)
    assert done["ChecksumSHA256"] == composite + "-1", done
    # UploadPartCopy: whole objects and byte ranges, from this bucket and another one.
    source = new_bucket("mpu-src")
    s3.put_object(Bucket=source, Key="src", Body=part1)
    s3.put_object(Bucket=bucket, Key="small", Body=b"0123456789")
    upload = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    c1 = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload, PartNumber=1,
                             CopySource={"Bucket": source, "Key": "src"})["CopyPartResult"]
    c2 = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload, PartNumber=2,
                             CopySource=f"{bucket}/small", CopySourceRange="bytes=2-5")["CopyPartResult"]
    assert c2["ETag"] == '"%s"' % hashlib.md5(b"2345").hexdigest() and c2["LastModified"], c2
    for bad in ["0-2", "bytes=0", "bytes=hello-world", "bytes=0-bar", "bytes=hello-", "bytes=0-2,3-5", "bytes=5-2"]:
        expect_error(400, "InvalidArgument", s3.upload_part_copy, Bucket=bucket, Key="copied", UploadId=upload,
                     PartNumber=3, CopySource=f"{bucket}/small", CopySourceRange=bad)
    expect_error(416, "InvalidRange", s3.upload_part_copy, Bucket=bucket, Key="copied", UploadId=upload,
                 PartNumber=3, CopySource=f"{bucket}/small", CopySourceRange="bytes=10-12")
    expect_error(400, "InvalidArgument", s3.upload_part_copy, Bucket=bucket, Key="copied", UploadId=upload,
                 PartNumber=3, CopySource=f"{bucket}/small", CopySourceRange="bytes=0-21")
    expect_error(404, "NoSuchKey", s3.upload_part_copy, Bucket=bucket, Key="copied", UploadId=upload,
                 PartNumber=3, CopySource=f"{bucket}/missing")
    s3.complete_multipart_upload(Bucket=bucket, Key="copied", UploadId=upload, MultipartUpload={"Parts": [
        {"PartNumber": 1, "ETag": c1["ETag"]}, {"PartNumber": 2, "ETag": c2["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == part1 + b"2345"


def versioning():
    bucket = new_bucket("ver")
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    # A never-versioned bucket lists each object once, as version "null".
    s3.put_object(Bucket=bucket, Key="k", Body=b"v0")
    r = s3.list_object_versions(Bucket=bucket)
    assert [(v["Key"], v["VersionId"], v["IsLatest"]) for v in r["Versions"]] == [("k", "null", True)], r
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"v1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"v2")["VersionId"]
    assert len({v1, v2, "null"}) == 3
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"v1"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"v0"
    assert s3.head_object(Bucket=bucket, Key="k", VersionId=v1)["VersionId"] == v1
    expect_error(404, "NoSuchVersion", s3.get_object, Bucket=bucket, Key="k", VersionId="0" * 32)
    expect_error(400, "InvalidArgument", s3.get_object, Bucket=bucket, Key="k", VersionId="bogus")
    # A delete puts a delete marker on top; the versions stay.
    d = s3.delete_object(Bucket=bucket, Key="k")
    assert d["DeleteMarker"] is True and d["VersionId"], d
    err = expect_error(404, "NoSuchKey", s3.get_object, Bucket=bucket, Key="k")
    assert err["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true", err
    expect_error(405, "MethodNotAllowed", s3.get_object, Bucket=bucket, Key="k", VersionId=d["VersionId"])
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    r = s3.list_object_versions(Bucket=bucket)
    assert [(v["VersionId"], v["IsLatest"]) for v in r["Versions"]] == [(v2, False), (v1, False), ("null", False)]
    assert [(m["VersionId"], m["IsLatest"]) for m in r["DeleteMarkers"]] == [(d["VersionId"], True)], r
    expect_error(409, "BucketNotEmpty", s3.delete_bucket, Bucket=bucket)
    # Removing the marker brings v2 back; deleting a version removes it for good.
    s3.delete_object(Bucket=bucket, Key="k", VersionId=d["VersionId"])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v1"
    # Paging by KeyMarker / VersionIdMarker, with a delimiter, through boto3's paginator.
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"dir/{i}", Body=b"x")
        s3.put_object(Bucket=bucket, Key="k", Body=b"again")
    pages = list(s3.get_paginator("list_object_versions").paginate(Bucket=bucket, PaginationConfig={"PageSize": 2}))
    seen = [(v["Key"], v["VersionId"]) for p in pages for v in p.get("Versions", [])]
    assert len(pages) == 4 and len(seen) == len(set(seen)) == 8, pages
    r = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["dir/"] and {v["Key"] for v in r["Versions"]} == {"k"}
    # Suspended: new writes are the "null" version.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.put_object(Bucket=bucket, Key="s", Body=b"1").get("VersionId") == "null"
    s3.put_object(Bucket=bucket, Key="s", Body=b"2")
    assert [v["VersionId"] for v in s3.list_object_versions(Bucket=bucket, Prefix="s")["Versions"]] == ["null"]
    # DeleteObjects with version ids, then emptying the bucket the way boto3 / Terraform force_destroy do.
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": v1}, {"Key": "dir/0"}]})
    assert {(d["Key"], d.get("VersionId"), d.get("DeleteMarker")) for d in r["Deleted"]} == {
        ("k", v1, None), ("dir/0", None, True)}, r
    resource.Bucket(bucket).object_versions.all().delete()
    r = s3.list_object_versions(Bucket=bucket)
    assert "Versions" not in r and "DeleteMarkers" not in r, r
    s3.delete_bucket(Bucket=bucket)


def conditional_writes():
    bucket = new_bucket("cond")
    etag = s3.put_object(Bucket=bucket, Key="k", Body=b"1", IfNoneMatch="*")["ETag"]
    err = expect_error(412, "PreconditionFailed", s3.put_object, Bucket=bucket, Key="k", Body=b"2", IfNoneMatch="*")
    assert err["Error"]["Message"] == "At least one of the pre-conditions you specified did not hold", err
    expect_error(412, "PreconditionFailed", s3.put_object, Bucket=bucket, Key="k", Body=b"2", IfMatch='"nope"')
    etag2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2", IfMatch=etag)["ETag"]
    expect_error(404, "NoSuchKey", s3.put_object, Bucket=bucket, Key="missing", Body=b"2", IfMatch=etag2)
    # CompleteMultipartUpload: the same conditions, and 409 when the key was deleted during the upload.
    def upload(key):
        uid = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        e = s3.upload_part(Bucket=bucket, Key=key, UploadId=uid, PartNumber=1, Body=b"p")["ETag"]
        return uid, {"Parts": [{"PartNumber": 1, "ETag": e}]}
    uid, parts = upload("k")
    expect_error(412, "PreconditionFailed", s3.complete_multipart_upload, Bucket=bucket, Key="k", UploadId=uid,
                 MultipartUpload=parts, IfNoneMatch="*")
    s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=uid, MultipartUpload=parts, IfMatch=etag2)
    uid, parts = upload("k")
    s3.delete_object(Bucket=bucket, Key="k")
    expect_error(409, "ConditionalRequestConflict", s3.complete_multipart_upload, Bucket=bucket, Key="k",
                 UploadId=uid, MultipartUpload=parts, IfNoneMatch="*")


def ownership_controls():
    bucket = new_bucket("own")
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}], rules
    expect_error(400, "AccessControlListNotSupported", s3.put_bucket_acl, Bucket=bucket, ACL="public-read")
    expect_error(400, "AccessControlListNotSupported", s3.put_object, Bucket=bucket, Key="k", Body=b"", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="k", Body=b"", ACL="bucket-owner-full-control")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"], grants
    assert s3.get_object_acl(Bucket=bucket, Key="k")["Grants"][0]["Permission"] == "FULL_CONTROL"
    s3.put_bucket_ownership_controls(Bucket=bucket,
                                     OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == \
        "ObjectWriter"
    # ACLs enabled, but Block Public Access (on by default) still refuses a public one.
    expect_error(403, "AccessDenied", s3.put_object, Bucket=bucket, Key="p", Body=b"", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="p", Body=b"", ACL="bucket-owner-read")
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    expect_error(404, "OwnershipControlsNotFoundError", s3.get_bucket_ownership_controls, Bucket=bucket)
    expect_error(400, "MalformedXML", s3.put_bucket_ownership_controls, Bucket=bucket,
                 OwnershipControls={"Rules": [{"ObjectOwnership": "Everyone"}]})


listing()
multipart()
versioning()
conditional_writes()
ownership_controls()
print("s3_conformance: ok")
