//! Object operations: PutObject and CopyObject (with conditional writes), GetObject (Range, conditional),
//! HeadObject, DeleteObject, DeleteObjects (each by version id too), ListObjects and ListObjectsV2 (and the
//! prefix/delimiter rolling ListObjectVersions shares); multipart uploads are routed to [`super::multipart`].

use std::collections::BTreeMap;

use axum::body::Body;
use base64::Engine as _;
use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::S3;
use super::error;
use super::model::Object;
use super::{XMLNS, arn, empty_with, http_time, parse_xml, payload, xml_time};
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, rest_xml};
use crate::services::Call;

/// Headers stored with an object and returned as they were sent.
const STANDARD_HEADERS: &[&str] =
    &["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];

/// The canned ACLs a bucket with ACLs disabled (Object Ownership BucketOwnerEnforced, AWS's default since April
/// 2023) still accepts: they grant nothing beyond the owner.
const ACLS_ALLOWED: &[&str] = &["private", "bucket-owner-full-control"];

/// Everything addressed to `/bucket/key`.
pub fn object_level(call: &Call<'_, S3>, bucket: &str, key: &str) -> AwsResult<Response> {
    let has = |name: &str| call.req.query.iter().any(|(k, _)| k == name);
    if has("uploads") && call.req.method == Method::POST {
        return super::multipart::create(call, bucket, key);
    }
    if let Some(upload_id) = call.req.query_param("uploadId") {
        return match call.req.method {
            Method::PUT => super::multipart::upload_part(call, bucket, key, upload_id),
            Method::POST => super::multipart::complete(call, bucket, key, upload_id),
            Method::DELETE => super::multipart::abort(call, bucket, key, upload_id),
            Method::GET => super::multipart::list_parts(call, bucket, key, upload_id),
            _ => Err(error::method_not_allowed(&call.req.method, "OBJECT")),
        };
    }
    if let Some((name, _)) = call.req.query.iter().find(|(k, _)| {
        matches!(k.as_str(), "tagging" | "retention" | "legal-hold" | "attributes" | "restore" | "select" | "torrent")
    }) {
        return Err(AwsError::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("The object subresource ?{name} is not implemented by crts-emulator"),
        ));
    }
    if has("acl") {
        return super::buckets::acl(call, bucket, Some(key));
    }
    let object_arn = arn(bucket, Some(key));
    let version_id = call.req.query_param("versionId");
    if let Some(id) = version_id
        && !super::model::is_version_id(id)
    {
        return Err(error::invalid_argument("Invalid version id specified")
            .with("ArgumentName", "versionId")
            .with("ArgumentValue", id));
    }
    match call.req.method {
        Method::PUT if call.req.headers.contains_key("x-amz-copy-source") => copy_object(call, bucket, key),
        Method::PUT => {
            call.authorize_on(bucket, "s3:PutObject", &object_arn)?;
            put_object(call, bucket, key)
        }
        Method::GET | Method::HEAD => {
            let action = if version_id.is_some() { "s3:GetObjectVersion" } else { "s3:GetObject" };
            call.authorize_on(bucket, action, &object_arn)?;
            let (object, versioned) = read_object(call, bucket, key, version_id)?;
            let mut response = serve_object(&object, &call.req.headers, &call.req.method, has("partNumber"))?;
            if versioned || version_id.is_some() {
                insert_header(response.headers_mut(), "x-amz-version-id", &object.version_id);
            }
            Ok(response)
        }
        Method::DELETE => {
            let action = if version_id.is_some() { "s3:DeleteObjectVersion" } else { "s3:DeleteObject" };
            call.authorize_on(bucket, action, &object_arn)?;
            let deleted = call.service.with_bucket(bucket, |b| {
                Ok(match version_id {
                    Some(id) => b.delete_version(key, id),
                    None => Some(b.delete_current(key)),
                })
            })?;
            let mut response = empty_with(StatusCode::NO_CONTENT, HeaderMap::new());
            // Deleting a version that does not exist succeeds without saying anything, as on S3.
            if let Some(deleted) = deleted {
                if let Some(id) = &deleted.version_id {
                    insert_header(response.headers_mut(), "x-amz-version-id", id);
                }
                if deleted.delete_marker {
                    insert_header(response.headers_mut(), "x-amz-delete-marker", "true");
                }
            }
            Ok(response)
        }
        _ => Err(error::method_not_allowed(&call.req.method, "OBJECT")),
    }
}

/// The object GetObject, HeadObject and the copy operations read: the key's current object, or the version
/// asked for, and whether the bucket has a versioning state (then answers carry `x-amz-version-id`).
///
/// A key whose latest version is a delete marker is 404 NoSuchKey with `x-amz-delete-marker: true`; a version
/// that does not exist is 404 NoSuchVersion; a version that is a delete marker is 405 MethodNotAllowed with
/// `x-amz-delete-marker: true`, as S3 answers. A missing key is 403 for a caller without `s3:ListBucket`.
pub(super) fn read_object(
    call: &Call<'_, S3>,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> AwsResult<(Object, bool)> {
    enum Found {
        Object(Object),
        Missing(Option<String>),
        NoVersion,
        Marker(String),
    }
    let (found, versioned) = call.service.with_bucket(bucket, |b| {
        let found = match version_id {
            None => match b.objects.get(key) {
                Some(object) => Found::Object(object.clone()),
                None => Found::Missing(b.latest_delete_marker(key).map(str::to_owned)),
            },
            Some(id) => match b.version(key, id) {
                Some(super::model::Version::Object(object)) => Found::Object(object),
                Some(super::model::Version::DeleteMarker { version_id, .. }) => Found::Marker(version_id),
                None => Found::NoVersion,
            },
        };
        Ok((found, b.versioning.is_some()))
    })?;
    match found {
        Found::Object(object) => Ok((object, versioned)),
        Found::Missing(marker) => {
            // Without s3:ListBucket a caller may not learn that a key does not exist: 403, as on AWS.
            call.authorize_on(bucket, "s3:ListBucket", &arn(bucket, None))?;
            let mut err = error::no_such_key(key);
            if let Some(marker) = marker {
                err = err
                    .with_header(http::HeaderName::from_static("x-amz-delete-marker"), "true")
                    .with_header(http::HeaderName::from_static("x-amz-version-id"), &marker);
            }
            Err(err)
        }
        Found::NoVersion => {
            Err(AwsError::new(StatusCode::NOT_FOUND, "NoSuchVersion", "The specified version does not exist.")
                .with("Key", key)
                .with("VersionId", version_id.unwrap_or("")))
        }
        Found::Marker(id) => Err(error::method_not_allowed(&call.req.method, "DeleteMarker")
            .with_header(http::HeaderName::from_static("x-amz-delete-marker"), "true")
            .with_header(http::HeaderName::from_static("x-amz-version-id"), &id)),
    }
}

/// The write conditions of PutObject and CompleteMultipartUpload
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>), checked against the key's
/// current object (a delete marker counts as no object): `If-None-Match: *` fails with 412 PreconditionFailed
/// when there is one; `If-Match: <etag>` fails with 404 NoSuchKey when there is none and 412 when its ETag
/// differs. `If-None-Match` with anything but `*` is 501 NotImplemented, as S3 answers it.
pub(super) fn check_write_conditions(req: &AwsRequest, key: &str, current: Option<&Object>) -> AwsResult<()> {
    let failed = |condition: &str| {
        AwsError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
        .with("Condition", condition)
    };
    if let Some(none_match) = req.header("if-none-match") {
        if none_match.trim() != "*" {
            return Err(AwsError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                "A header you provided implies functionality that is not implemented",
            )
            .with("Header", "If-None-Match"));
        }
        if current.is_some() {
            return Err(failed("If-None-Match"));
        }
    }
    if let Some(expected) = req.header("if-match") {
        let Some(current) = current else { return Err(error::no_such_key(key)) };
        if !etag_list_matches(expected, &current.etag) {
            return Err(failed("If-Match"));
        }
    }
    Ok(())
}

/// Whether a write carries a condition ([`check_write_conditions`]).
pub(super) fn is_conditional(req: &AwsRequest) -> bool {
    req.headers.contains_key("if-none-match") || req.headers.contains_key("if-match")
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>: the body (plain or aws-chunked, its
/// declared checksum verified), metadata, and the write conditions ([`check_write_conditions`]); stored as the
/// bucket's versioning state says, answering `x-amz-version-id` when the bucket has one.
fn put_object(call: &Call<'_, S3>, bucket: &str, key: &str) -> AwsResult<Response> {
    check_acl(call, bucket)?;
    let payload = payload::decode(&call.req.headers, call.req.body.clone())?;
    let mut object = new_object(payload.body, &call.req.headers);
    object.checksum = payload.checksum;
    let etag = object.etag.clone();
    let checksum = object.checksum.clone();
    let version_id = call.service.with_bucket(bucket, |b| {
        check_write_conditions(call.req, key, b.objects.get(key))?;
        Ok(b.put(key, object))
    })?;
    let mut response = empty_with(StatusCode::OK, HeaderMap::new());
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(http::header::ETAG, value);
    }
    if let Some(version_id) = &version_id {
        insert_header(headers, "x-amz-version-id", version_id);
    }
    if let Some((algorithm, value)) = checksum
        && let Ok(value) = HeaderValue::from_str(&value)
        && let Ok(name) = http::HeaderName::from_bytes(format!("x-amz-checksum-{algorithm}").as_bytes())
    {
        headers.insert(name, value);
    }
    headers.insert("x-amz-server-side-encryption", HeaderValue::from_static("AES256"));
    Ok(response)
}

/// Sets a header when the value is a valid header value.
pub(super) fn insert_header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// A canned ACL sent with a write (`x-amz-acl`, or `x-amz-grant-*` headers). While the bucket's Object
/// Ownership is BucketOwnerEnforced (the default), ACLs are disabled: only `private` and
/// `bucket-owner-full-control` are accepted, anything else is 400 AccessControlListNotSupported, as S3 answers.
/// Under ObjectWriter or BucketOwnerPreferred a canned ACL is accepted, and a public one (`public-read`,
/// `public-read-write`, `authenticated-read`) is refused with 403 AccessDenied while BlockPublicAcls is on.
/// Deviation: accepted ACLs are not stored and grant nothing; access is decided by IAM and the bucket policy.
pub(super) fn check_acl(call: &Call<'_, S3>, bucket: &str) -> AwsResult<()> {
    let req = call.req;
    let grants = req.headers.keys().any(|name| name.as_str().starts_with("x-amz-grant-"));
    let acl = req.header("x-amz-acl");
    if acl.is_none() && !grants {
        return Ok(());
    }
    let (enforced, block_public_acls) =
        call.service.with_bucket(bucket, |b| Ok((b.acls_disabled(), b.block().block_public_acls)))?;
    if enforced {
        return match acl {
            Some(acl) if ACLS_ALLOWED.contains(&acl) && !grants => Ok(()),
            _ => Err(acl_not_supported()),
        };
    }
    if block_public_acls && acl.is_some_and(|acl| PUBLIC_ACLS.contains(&acl)) {
        return Err(error::access_denied());
    }
    Ok(())
}

/// Canned ACLs that grant access beyond the bucket owner.
const PUBLIC_ACLS: &[&str] = &["public-read", "public-read-write", "authenticated-read"];

/// S3's answer to an ACL that a bucket with ACLs disabled (BucketOwnerEnforced) cannot take.
pub(super) fn acl_not_supported() -> AwsError {
    AwsError::new(StatusCode::BAD_REQUEST, "AccessControlListNotSupported", "The bucket does not allow ACLs")
}

/// A new object from its bytes and the request's metadata headers.
pub(super) fn new_object(body: Bytes, headers: &HeaderMap) -> Object {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let content_encoding = text("content-encoding").map(|v| {
        v.split(',').map(str::trim).filter(|e| *e != "aws-chunked" && !e.is_empty()).collect::<Vec<_>>().join(", ")
    });
    let mut standard_headers = Vec::new();
    for name in STANDARD_HEADERS {
        let value = if *name == "content-encoding" { content_encoding.clone() } else { text(name).map(str::to_owned) };
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            standard_headers.push(((*name).to_owned(), value));
        }
    }
    Object {
        etag: payload::etag(&body),
        body,
        last_modified: Utc::now(),
        content_type: text("content-type").unwrap_or("binary/octet-stream").to_owned(),
        standard_headers,
        metadata: user_metadata(headers),
        checksum: None,
        version_id: super::model::NULL_VERSION.to_owned(),
    }
}

fn user_metadata(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str().strip_prefix("x-amz-meta-")?;
            Some((name.to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

/// GetObject/HeadObject: conditional requests, Range, and the object's headers.
pub fn serve_object(object: &Object, request: &HeaderMap, method: &Method, part: bool) -> AwsResult<Response> {
    let text = |name: &str| request.get(name).and_then(|v| v.to_str().ok());
    if let Some(expected) = text("if-match")
        && !etag_list_matches(expected, &object.etag)
    {
        return Err(AwsError::new(
            StatusCode::PRECONDITION_FAILED,
            "PreconditionFailed",
            "At least one of the pre-conditions you specified did not hold",
        )
        .with("Condition", "If-Match"));
    }
    if let Some(expected) = text("if-none-match")
        && etag_list_matches(expected, &object.etag)
    {
        let mut response = empty_with(StatusCode::NOT_MODIFIED, HeaderMap::new());
        if let Ok(value) = HeaderValue::from_str(&object.etag) {
            response.headers_mut().insert(http::header::ETAG, value);
        }
        return Ok(response);
    }
    let total = object.body.len();
    let range = if part { None } else { text("range").and_then(|r| parse_range(r, total).transpose()).transpose()? };
    let (status, body) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, object.body.slice(start..=end)),
        None => (StatusCode::OK, object.body.clone()),
    };
    let mut builder = http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, &object.content_type)
        .header(http::header::CONTENT_LENGTH, body.len())
        .header(http::header::ETAG, &object.etag)
        .header(http::header::LAST_MODIFIED, http_time(&object.last_modified))
        .header(http::header::ACCEPT_RANGES, "bytes")
        .header("x-amz-server-side-encryption", "AES256");
    if let Some((start, end)) = range {
        builder = builder.header(http::header::CONTENT_RANGE, format!("bytes {start}-{end}/{total}"));
    }
    for (name, value) in &object.standard_headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    for (name, value) in &object.metadata {
        builder = builder.header(format!("x-amz-meta-{name}"), value.as_str());
    }
    if range.is_none()
        && text("x-amz-checksum-mode").is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
        && let Some((algorithm, value)) = &object.checksum
    {
        builder = builder.header(format!("x-amz-checksum-{algorithm}"), value.as_str());
        // A completed multipart upload's checksum is of its parts' checksums (`...-N`), not of the bytes.
        let composite = value.rsplit_once('-').is_some_and(|(_, n)| n.bytes().all(|b| b.is_ascii_digit()));
        builder = builder.header("x-amz-checksum-type", if composite { "COMPOSITE" } else { "FULL_OBJECT" });
    }
    let body = if method == Method::HEAD { Body::empty() } else { Body::from(body) };
    let mut response = builder.body(body).map_err(AwsError::internal)?;
    if method == Method::HEAD {
        // The length of what GET would return, without the bytes.
        response
            .headers_mut()
            .insert(http::header::CONTENT_LENGTH, HeaderValue::from(range.map_or(total, |(s, e)| e - s + 1)));
    }
    Ok(response)
}

fn etag_list_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_matches('"') == etag.trim_matches('"'))
}

/// A single `bytes=` range, clamped as S3 does. `Ok(None)`: not a single byte range, the whole object is sent.
fn parse_range(header: &str, total: usize) -> AwsResult<Option<(usize, usize)>> {
    let invalid = || {
        AwsError::new(StatusCode::RANGE_NOT_SATISFIABLE, "InvalidRange", "The requested range is not satisfiable")
            .with("RangeRequested", header)
            .with("ActualObjectSize", total.to_string())
    };
    let Some(spec) = header.trim().strip_prefix("bytes=") else { return Ok(None) };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else { return Ok(None) };
    let (first, last) = (first.trim(), last.trim());
    let range = match (first.parse::<usize>().ok(), last.parse::<usize>().ok()) {
        (Some(start), _) if start >= total => return Err(invalid()),
        (Some(start), Some(end)) if end >= start => (start, end.min(total - 1)),
        (Some(_), Some(_)) => return Ok(None),
        (Some(start), None) if last.is_empty() => (start, total - 1),
        (None, Some(suffix)) if first.is_empty() => {
            if suffix == 0 || total == 0 {
                return Err(invalid());
            }
            (total - suffix.min(total), total - 1)
        }
        _ => return Ok(None),
    };
    Ok(Some(range))
}

/// The object `x-amz-copy-source` names (`[/]bucket/key[?versionId=...]`, percent-encoded), read as GetObject
/// reads it ([`read_object`]) after `s3:GetObject` (or `s3:GetObjectVersion`) on it is authorized: CopyObject and
/// UploadPartCopy may copy from any bucket the caller may read. A version that is a delete marker is 400
/// InvalidRequest, as S3 answers. Returns the object and the source version id to echo
/// (`x-amz-copy-source-version-id`) when the source bucket is versioned or a version was named.
pub(super) fn copy_source(call: &Call<'_, S3>) -> AwsResult<(Object, Option<String>)> {
    let header = call.req.header("x-amz-copy-source").unwrap_or("");
    let (path, query) = header.split_once('?').unwrap_or((header, ""));
    let source = percent_encoding::percent_decode_str(path.trim_start_matches('/')).decode_utf8_lossy().into_owned();
    let Some((source_bucket, source_key)) = source.split_once('/').filter(|(b, k)| !b.is_empty() && !k.is_empty())
    else {
        return Err(error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
        .with("ArgumentName", "x-amz-copy-source"));
    };
    let query = crate::protocol::parse_query(query);
    let version_id = query.iter().find(|(k, _)| k == "versionId").map(|(_, v)| v.as_str());
    if let Some(id) = version_id
        && !super::model::is_version_id(id)
    {
        return Err(error::invalid_argument("Invalid version id specified")
            .with("ArgumentName", "x-amz-copy-source")
            .with("ArgumentValue", id));
    }
    let action = if version_id.is_some() { "s3:GetObjectVersion" } else { "s3:GetObject" };
    call.authorize_on(source_bucket, action, &arn(source_bucket, Some(source_key)))?;
    match read_object(call, source_bucket, source_key, version_id) {
        Ok((object, versioned)) => {
            let echoed = (versioned || version_id.is_some()).then(|| object.version_id.clone());
            Ok((object, echoed))
        }
        Err(err) if err.code == "MethodNotAllowed" => Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "The source of a copy request may not specifically refer to a delete marker by version id.",
        )),
        Err(err) => Err(err),
    }
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>: from [`copy_source`], metadata COPY
/// (default) or REPLACE, with the destination's write conditions. Deviation: the `x-amz-copy-source-if-*`
/// conditions are not evaluated.
fn copy_object(call: &Call<'_, S3>, bucket: &str, key: &str) -> AwsResult<Response> {
    call.authorize_on(bucket, "s3:PutObject", &arn(bucket, Some(key)))?;
    check_acl(call, bucket)?;
    let (original, source_version) = copy_source(call)?;
    let replace = call.req.header("x-amz-metadata-directive").is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
    let header = call.req.header("x-amz-copy-source").unwrap_or("");
    let same = percent_encoding::percent_decode_str(header.split('?').next().unwrap_or("").trim_start_matches('/'))
        .decode_utf8_lossy()
        == format!("{bucket}/{key}");
    if same && !replace && !header.contains("versionId=") {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let object = if replace {
        // The bytes are the same, so is their checksum.
        Object { checksum: original.checksum.clone(), ..new_object(original.body.clone(), &call.req.headers) }
    } else {
        Object { last_modified: Utc::now(), ..original }
    };
    let (etag, modified) = (object.etag.clone(), xml_time(&object.last_modified));
    let version_id = call.service.with_bucket(bucket, |b| {
        check_write_conditions(call.req, key, b.objects.get(key))?;
        Ok(b.put(key, object))
    })?;
    let mut xml = XmlWriter::new();
    xml.open("CopyObjectResult", Some(XMLNS))
        .text("LastModified", &modified)
        .text("ETag", &etag)
        .close("CopyObjectResult");
    let mut response = rest_xml::ok(xml.finish());
    if let Some(id) = &version_id {
        insert_header(response.headers_mut(), "x-amz-version-id", id);
    }
    if let Some(id) = &source_version {
        insert_header(response.headers_mut(), "x-amz-copy-source-version-id", id);
    }
    Ok(response)
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>:
/// `<Delete><Quiet/><Object><Key/><VersionId/></Object>...</Delete>` (1 to 1000 objects); each is authorized on
/// its own (`s3:DeleteObject`, or `s3:DeleteObjectVersion` with a version id) and deleted as DeleteObject would
/// ([`super::model::Bucket::delete_current`], [`super::model::Bucket::delete_version`]). `Deleted` names the
/// version removed or the delete marker made; Quiet mode lists only the errors.
pub fn delete_objects(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let payload = payload::decode(&call.req.headers, call.req.body.clone())?;
    let root = parse_xml(&payload.body)?;
    if !root.is("Delete") {
        return Err(error::malformed_xml());
    }
    let quiet = root.child_text("Quiet").is_some_and(|q| q.trim() == "true");
    let mut objects = Vec::new();
    for object in root.children_named("Object") {
        let Some(key) = object.child_text("Key") else { return Err(error::malformed_xml()) };
        let version_id = object.child_text("VersionId").map(str::trim).filter(|v| !v.is_empty());
        objects.push((key.to_owned(), version_id.map(str::to_owned)));
    }
    if objects.is_empty() || objects.len() > 1000 {
        return Err(error::malformed_xml());
    }
    call.service.with_bucket(bucket, |_| Ok(()))?;
    let mut xml = XmlWriter::new();
    xml.open("DeleteResult", Some(XMLNS));
    for (key, version_id) in &objects {
        let action = if version_id.is_some() { "s3:DeleteObjectVersion" } else { "s3:DeleteObject" };
        let outcome =
            call.authorize_on(bucket, action, &arn(bucket, Some(key))).and_then(|()| match version_id.as_deref() {
                Some(id) if !super::model::is_version_id(id) => Err(AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "NoSuchVersion",
                    "The specified version does not exist.",
                )),
                Some(id) => call.service.with_bucket(bucket, |b| Ok(b.delete_version(key, id))),
                None => call.service.with_bucket(bucket, |b| Ok(Some(b.delete_current(key)))),
            });
        match outcome {
            Ok(deleted) => {
                if quiet {
                    continue;
                }
                xml.open("Deleted", None).text("Key", key);
                xml.opt_text("VersionId", version_id.as_deref());
                if let Some(deleted) = deleted.filter(|d| d.delete_marker) {
                    xml.text("DeleteMarker", "true");
                    xml.opt_text("DeleteMarkerVersionId", deleted.version_id.as_deref());
                }
                xml.close("Deleted");
            }
            Err(err) => {
                xml.open("Error", None).text("Key", key);
                xml.opt_text("VersionId", version_id.as_deref());
                xml.text("Code", &err.code).text("Message", &err.message).close("Error");
            }
        }
    }
    xml.close("DeleteResult");
    Ok(rest_xml::ok(xml.finish()))
}

/// The parameters ListObjects, ListObjectsV2 and ListObjectVersions share: `prefix`, `delimiter` (empty = none),
/// `max-keys` (0 to 1000; larger values are served as 1000, as S3 does) and `encoding-type=url`.
pub(super) struct ListParams<'a> {
    pub prefix: &'a str,
    pub delimiter: Option<&'a str>,
    pub max_keys: usize,
    pub url_encode: bool,
}

impl<'a> ListParams<'a> {
    pub fn of(call: &'a Call<'_, S3>) -> AwsResult<Self> {
        let q = |name: &str| call.req.query_param(name);
        let max_keys = match q("max-keys") {
            Some(text) => text.parse::<usize>().map_err(|_| {
                error::invalid_argument("Provided max-keys not an integer or within integer range")
                    .with("ArgumentName", "max-keys")
                    .with("ArgumentValue", text)
            })?,
            None => 1000,
        }
        .min(1000);
        let url_encode = match q("encoding-type") {
            None => false,
            Some("url") => true,
            Some(other) => {
                return Err(error::invalid_argument("Invalid Encoding Method specified in Request")
                    .with("ArgumentName", "encoding-type")
                    .with("ArgumentValue", other));
            }
        };
        Ok(Self {
            prefix: q("prefix").unwrap_or(""),
            delimiter: q("delimiter").filter(|d| !d.is_empty()),
            max_keys,
            url_encode,
        })
    }

    /// A key or prefix as the answer writes it: percent-encoded under `encoding-type=url`.
    pub fn encode(&self, s: &str) -> String {
        if self.url_encode { percent_encoding::utf8_percent_encode(s, KEY_ENCODE).to_string() } else { s.to_owned() }
    }

    /// The common prefix `key` rolls into: the prefix, then everything up to and including the first delimiter
    /// after it. `None` when there is no delimiter or the rest of the key has none.
    pub fn common_prefix(&self, key: &str) -> Option<String> {
        let delimiter = self.delimiter?;
        let rest = key.get(self.prefix.len()..)?;
        rest.find(delimiter).map(|at| key[..self.prefix.len() + at + delimiter.len()].to_owned())
    }

    /// Rolls `entries` (in listing order, each a key with what is listed for it, already past the marker) into
    /// one page of at most `max_keys` entries, each content or common prefix counting as one. A common prefix at
    /// or before `after` (the marker) has been served on an earlier page and is skipped, with all its keys: this is
    /// how S3 resumes after a `NextMarker` that names a common prefix.
    pub fn roll<'k, T>(&self, entries: impl Iterator<Item = (&'k str, T)>, after: Option<&str>) -> Rolled<T> {
        let mut rolled = Rolled { contents: Vec::new(), common: Vec::new(), truncated: false, last: None };
        for (key, item) in entries {
            if !key.starts_with(self.prefix) {
                continue;
            }
            let common = self.common_prefix(key);
            if let Some(common) = &common
                && (rolled.common.last() == Some(common) || after.is_some_and(|after| common.as_str() <= after))
            {
                continue;
            }
            if rolled.contents.len() + rolled.common.len() >= self.max_keys {
                // S3 answers MaxKeys=0 with an empty, untruncated page.
                rolled.truncated = self.max_keys > 0;
                break;
            }
            match common {
                Some(common) => {
                    rolled.last = Some(Entry::Prefix(common.clone()));
                    rolled.common.push(common);
                }
                None => {
                    rolled.last = Some(Entry::Key(key.to_owned()));
                    rolled.contents.push((key.to_owned(), item));
                }
            }
        }
        rolled
    }

    /// Where a listing of keys starts: at the prefix, or strictly after the marker when that is further on.
    pub fn lower_bound<'b>(&'b self, after: Option<&'b str>) -> std::ops::Bound<&'b str> {
        match after {
            Some(after) if after >= self.prefix => std::ops::Bound::Excluded(after),
            _ => std::ops::Bound::Included(self.prefix),
        }
    }
}

/// One page of a listing: the keys listed (with what is listed for each), the common prefixes, whether more
/// follow, and the last entry served (where the next page starts).
pub(super) struct Rolled<T> {
    pub contents: Vec<(String, T)>,
    pub common: Vec<String>,
    pub truncated: bool,
    pub last: Option<Entry>,
}

impl<T> Rolled<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Rolled<U> {
        let mut f = f;
        Rolled {
            contents: self.contents.into_iter().map(|(key, item)| (key, f(item))).collect(),
            common: self.common,
            truncated: self.truncated,
            last: self.last,
        }
    }
}

/// The last entry of a page: a key or a common prefix.
pub(super) enum Entry {
    Key(String),
    Prefix(String),
}

impl Entry {
    pub fn name(&self) -> &str {
        match self {
            Self::Key(name) | Self::Prefix(name) => name,
        }
    }
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html> (`list-type=2`) and
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html>: the current objects whose keys start
/// with `prefix`, in key order, keys holding the `delimiter` after the prefix rolled into CommonPrefixes (each
/// counts toward `max-keys`, as S3 counts them).
///
/// V1 resumes after `marker` and writes `NextMarker` (the last key or common prefix served) only when a delimiter
/// was given, as S3 does; V2 resumes after `continuation-token` (opaque: base64 of the last entry served) or
/// `start-after`. V1 always lists each object's Owner; V2 only with `fetch-owner=true`. Owner carries the
/// canonical ID only: S3 stopped returning DisplayName in November 2025. `max-keys=0` answers an empty,
/// untruncated page.
pub fn list_objects(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let q = |name: &str| call.req.query_param(name);
    let v2 = q("list-type") == Some("2");
    let params = ListParams::of(call)?;
    let token = if v2 { q("continuation-token") } else { None };
    let after = match token {
        Some(token) => Some(
            base64::engine::general_purpose::STANDARD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    error::invalid_argument("The continuation token provided is incorrect")
                        .with("ArgumentName", "continuation-token")
                })?,
        ),
        None => if v2 { q("start-after") } else { q("marker") }.map(str::to_owned),
    };
    let with_owner = !v2 || q("fetch-owner") == Some("true");

    let (owner, page) = call.service.with_bucket(bucket, |b| {
        let entries = b.objects.range::<str, _>((params.lower_bound(after.as_deref()), std::ops::Bound::Unbounded));
        let entries =
            entries.map(|(key, object)| (key.as_str(), object)).take_while(|(key, _)| key.starts_with(params.prefix));
        let page = params.roll(entries, after.as_deref());
        Ok((b.owner.clone(), page.map(Object::clone)))
    })?;
    let encode = |s: &str| params.encode(s);
    let mut xml = XmlWriter::new();
    xml.open("ListBucketResult", Some(XMLNS)).text("Name", bucket).text("Prefix", &encode(params.prefix));
    if v2 {
        xml.text("KeyCount", &(page.contents.len() + page.common.len()).to_string());
        xml.opt_text("ContinuationToken", token);
        xml.opt_text("StartAfter", q("start-after").map(encode).as_deref());
    } else {
        xml.text("Marker", &encode(q("marker").unwrap_or("")));
    }
    xml.text("MaxKeys", &params.max_keys.to_string());
    xml.opt_text("Delimiter", params.delimiter.map(encode).as_deref());
    xml.opt_text("EncodingType", params.url_encode.then_some("url"));
    xml.text("IsTruncated", &page.truncated.to_string());
    if page.truncated
        && let Some(last) = &page.last
    {
        if v2 {
            xml.text("NextContinuationToken", &base64::engine::general_purpose::STANDARD.encode(last.name()));
        } else if params.delimiter.is_some() {
            xml.text("NextMarker", &encode(last.name()));
        }
    }
    let owner = super::buckets::owner_id(&owner);
    for (key, object) in &page.contents {
        xml.open("Contents", None)
            .text("Key", &encode(key))
            .text("LastModified", &xml_time(&object.last_modified))
            .text("ETag", &object.etag)
            .text("Size", &object.body.len().to_string());
        if with_owner {
            xml.open("Owner", None).text("ID", &owner).close("Owner");
        }
        xml.text("StorageClass", "STANDARD");
        xml.close("Contents");
    }
    for prefix in &page.common {
        xml.open("CommonPrefixes", None).text("Prefix", &encode(prefix)).close("CommonPrefixes");
    }
    xml.close("ListBucketResult");
    Ok(rest_xml::ok(xml.finish()))
}

/// What `encoding-type=url` escapes: everything but unreserved characters and `/`.
const KEY_ENCODE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_rfc_7233_as_s3_applies_it() {
        assert_eq!(parse_range("bytes=0-4", 10).expect("ok"), Some((0, 4)));
        assert_eq!(parse_range("bytes=5-", 10).expect("ok"), Some((5, 9)));
        assert_eq!(parse_range("bytes=-3", 10).expect("ok"), Some((7, 9)));
        assert_eq!(parse_range("bytes=8-100", 10).expect("ok"), Some((8, 9)));
        assert_eq!(parse_range("bytes=0-1,3-4", 10).expect("ok"), None);
        assert_eq!(parse_range("bytes=10-", 10).expect_err("refused").code, "InvalidRange");
    }
}
