//! Multipart uploads, which `aws s3 cp`, boto3's `upload_file` and the SDKs' transfer managers use for large
//! files: CreateMultipartUpload, UploadPart, UploadPartCopy, CompleteMultipartUpload, AbortMultipartUpload,
//! ListParts and ListMultipartUploads.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>
//!
//! Deliberate deviations: ListMultipartUploads and ListParts page by S3's
//! markers but ListMultipartUploads has no prefix or delimiter; parts stay in memory until the upload is completed or
//! aborted (no lifecycle expiry); the completed object's checksum is the composite one (`<checksum of the part
//! checksums>-N`, S3's default for CRC32, CRC32C, SHA-1 and SHA-256), and FULL_OBJECT is not offered.

use std::collections::BTreeMap;

use bytes::{Bytes, BytesMut};
use chrono::Utc;
use http::{HeaderMap, HeaderValue, StatusCode};
use md5::Digest as _;

use super::S3;
use super::error;
use super::model::{COMPLETED_TTL_SECONDS, CompletedUpload, MAX_COMPLETED, MultipartUpload, Part};
use super::{XMLNS, arn, empty_with, parse_xml, payload, xml_time};
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsError, AwsResult, Response, rest_xml};
use crate::services::{Call, pagination};

/// Every part but the last must be at least this big.
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
const MAX_PARTS: u32 = 10_000;

fn no_such_upload(upload_id: &str) -> AwsError {
    AwsError::new(
        StatusCode::NOT_FOUND,
        "NoSuchUpload",
        "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    )
    .with("UploadId", upload_id)
}

/// Runs `f` on the upload `upload_id` of `key` in `bucket` (an upload of another key does not exist for this one).
fn with_upload<T>(
    call: &Call<'_, S3>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    f: impl FnOnce(&mut MultipartUpload) -> AwsResult<T>,
) -> AwsResult<T> {
    call.service.with_bucket(bucket, |b| match b.uploads.get_mut(upload_id).filter(|u| u.key == key) {
        Some(upload) => f(upload),
        None => Err(no_such_upload(upload_id)),
    })
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateMultipartUpload.html>
pub fn create(call: &Call<'_, S3>, bucket: &str, key: &str) -> AwsResult<Response> {
    call.authorize_on(bucket, "s3:PutObject", &arn(bucket, Some(key)))?;
    super::objects::check_acl(call, bucket)?;
    let checksum_algorithm = match call.req.header("x-amz-checksum-algorithm") {
        Some(algorithm) if payload::ALGORITHMS.contains(&algorithm.to_ascii_lowercase().as_str()) => {
            Some(algorithm.to_ascii_lowercase())
        }
        Some(algorithm) => {
            return Err(error::invalid_argument(format!("Checksum algorithm {algorithm} is not supported"))
                .with("ArgumentName", "x-amz-checksum-algorithm"));
        }
        None => None,
    };
    let upload_id = uuid::Uuid::new_v4().simple().to_string();
    call.service.with_bucket(bucket, |b| {
        let upload = MultipartUpload {
            key: key.to_owned(),
            initiated: Utc::now(),
            object: super::objects::new_object(Bytes::new(), &call.req.headers),
            checksum_algorithm: checksum_algorithm.clone(),
            parts: BTreeMap::new(),
            key_existed: b.objects.contains_key(key),
        };
        b.uploads.insert(upload_id.clone(), upload);
        Ok(())
    })?;
    let mut xml = XmlWriter::new();
    xml.open("InitiateMultipartUploadResult", Some(XMLNS))
        .text("Bucket", bucket)
        .text("Key", key)
        .text("UploadId", &upload_id)
        .close("InitiateMultipartUploadResult");
    let mut response = rest_xml::ok(xml.finish());
    if let Some(algorithm) = checksum_algorithm {
        insert(response.headers_mut(), "x-amz-checksum-algorithm", &algorithm.to_ascii_uppercase());
        insert(response.headers_mut(), "x-amz-checksum-type", "COMPOSITE");
    }
    Ok(response)
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html>: the body (plain or aws-chunked) with
/// its declared checksum verified (400 BadDigest "The SHA256 you specified did not match the calculated
/// checksum.", per algorithm). In an upload created with `x-amz-checksum-algorithm`, a part declaring another
/// algorithm is 400 InvalidRequest, as S3 answers. With `x-amz-copy-source` it is [`upload_part_copy`].
pub fn upload_part(call: &Call<'_, S3>, bucket: &str, key: &str, upload_id: &str) -> AwsResult<Response> {
    call.authorize_on(bucket, "s3:PutObject", &arn(bucket, Some(key)))?;
    if call.req.headers.contains_key("x-amz-copy-source") {
        return upload_part_copy(call, bucket, key, upload_id);
    }
    let number = part_number(call.req.query_param("partNumber"))?;
    let decoded = payload::decode(&call.req.headers, call.req.body.clone())?;
    let part = Part {
        etag: payload::etag(&decoded.body),
        body: decoded.body,
        last_modified: Utc::now(),
        checksum: decoded.checksum,
    };
    let (etag, checksum) = (part.etag.clone(), part.checksum.clone());
    with_upload(call, bucket, key, upload_id, |upload| {
        if let (Some(expected), Some((actual, _))) = (&upload.checksum_algorithm, &part.checksum)
            && expected != actual
        {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                format!(
                    "Checksum Type mismatch occurred, expected checksum Type: {expected}, actual checksum Type: {actual}"
                ),
            ));
        }
        upload.parts.insert(number, part);
        Ok(())
    })?;
    let mut response = empty_with(StatusCode::OK, HeaderMap::new());
    let headers = response.headers_mut();
    insert(headers, "etag", &etag);
    if let Some((algorithm, value)) = checksum {
        insert(headers, &format!("x-amz-checksum-{algorithm}"), &value);
    }
    insert(headers, "x-amz-server-side-encryption", "AES256");
    Ok(response)
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPartCopy.html>: the part's bytes are those of the
/// object `x-amz-copy-source` names (any bucket the caller may read, a version with `?versionId=`), all of them or
/// the `x-amz-copy-source-range: bytes=first-last` slice. A range not of that form (`bytes=0-`, `bytes=-5`,
/// `0-5`, two ranges, first after last) is 400 InvalidArgument; a first byte past the object's end is 416
/// InvalidRange; a last byte past it is 400 InvalidArgument "Range specified is not valid for source object of
/// size: N", as S3 answers. The answer is `CopyPartResult` (ETag, LastModified), with
/// `x-amz-copy-source-version-id` when the source is versioned. Deviation: the `x-amz-copy-source-if-*`
/// conditions are not evaluated.
fn upload_part_copy(call: &Call<'_, S3>, bucket: &str, key: &str, upload_id: &str) -> AwsResult<Response> {
    let number = part_number(call.req.query_param("partNumber"))?;
    // The upload must exist before the source is read: NoSuchUpload first, as S3 answers.
    with_upload(call, bucket, key, upload_id, |_| Ok(()))?;
    let (source, source_version) = super::objects::copy_source(call)?;
    let body = match call.req.header("x-amz-copy-source-range") {
        None => source.body.clone(),
        Some(range) => {
            let (first, last) = copy_range(range, source.body.len())?;
            source.body.slice(first..=last)
        }
    };
    let part = Part { etag: payload::etag(&body), body, last_modified: Utc::now(), checksum: None };
    let (etag, modified) = (part.etag.clone(), xml_time(&part.last_modified));
    with_upload(call, bucket, key, upload_id, |upload| {
        let mut part = part;
        if let Some(algorithm) = &upload.checksum_algorithm {
            part.checksum = Some((algorithm.clone(), payload::compute(algorithm, &part.body)));
        }
        upload.parts.insert(number, part);
        Ok(())
    })?;
    let mut xml = XmlWriter::new();
    xml.open("CopyPartResult", Some(XMLNS)).text("ETag", &etag).text("LastModified", &modified).close("CopyPartResult");
    let mut response = rest_xml::ok(xml.finish());
    if let Some(id) = source_version {
        insert(response.headers_mut(), "x-amz-copy-source-version-id", &id);
    }
    insert(response.headers_mut(), "x-amz-server-side-encryption", "AES256");
    Ok(response)
}

/// `x-amz-copy-source-range: bytes=first-last` checked against the source's size, as S3 checks it.
pub(crate) fn copy_range(range: &str, size: usize) -> AwsResult<(usize, usize)> {
    let malformed = || {
        error::invalid_argument(
            "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
        )
        .with("ArgumentName", "x-amz-copy-source-range")
        .with("ArgumentValue", range)
    };
    let spec = range.trim().strip_prefix("bytes=").ok_or_else(malformed)?;
    let (first, last) = spec.split_once('-').ok_or_else(malformed)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !digits(last) {
        return Err(malformed());
    }
    let (Ok(first), Ok(last)) = (first.parse::<usize>(), last.parse::<usize>()) else { return Err(malformed()) };
    if first > last {
        return Err(malformed());
    }
    if first >= size {
        return Err(AwsError::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        )
        .with("RangeRequested", range)
        .with("ActualObjectSize", size.to_string()));
    }
    if last >= size {
        return Err(error::invalid_argument(format!("Range specified is not valid for source object of size: {size}"))
            .with("ArgumentName", "x-amz-copy-source-range")
            .with("ArgumentValue", range));
    }
    Ok((first, last))
}

pub(crate) fn part_number(value: Option<&str>) -> AwsResult<u32> {
    value.and_then(|v| v.parse().ok()).filter(|n| (1..=MAX_PARTS).contains(n)).ok_or_else(|| {
        error::invalid_argument("Part number must be an integer between 1 and 10000, inclusive")
            .with("ArgumentName", "partNumber")
            .with("ArgumentValue", value.unwrap_or(""))
    })
}

/// A part named in CompleteMultipartUpload.
pub(crate) struct Named {
    pub(crate) number: u32,
    pub(crate) etag: String,
    /// `<ChecksumCRC32>`... as sent: `(algorithm, base64 value)`.
    pub(crate) checksum: Option<(String, String)>,
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>: the parts named, in
/// ascending order, with their ETags (and their checksums, when named), become the object; every part but the
/// last must be at least 5 MiB.
///
/// - A declared whole-object checksum (`x-amz-checksum-sha256`...) must equal the composite one the parts make
///   (with or without its `-N` suffix): otherwise 400 BadDigest, as S3 answers.
/// - Write conditions (`If-None-Match: *`, `If-Match`) are checked as PutObject checks them; a key that existed
///   when the upload was created and was deleted since is 409 ConditionalRequestConflict (a conflicting
///   operation during the upload: S3 asks to start the upload again).
/// - An upload already completed (an SDK retry) is answered again as the first time, when the parts named are
///   the ones it was completed with (otherwise InvalidPart); S3 keeps completed uploads answerable for a while,
///   here the last [`super::model::MAX_COMPLETED`] per bucket for an hour.
pub fn complete(call: &Call<'_, S3>, bucket: &str, key: &str, upload_id: &str) -> AwsResult<Response> {
    call.authorize_on(bucket, "s3:PutObject", &arn(bucket, Some(key)))?;
    let named = named_parts(&call.req.body)?;
    if named.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidPartOrder",
            "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
        )
        .with("UploadId", upload_id));
    }
    let declared = payload::ALGORITHMS.iter().find_map(|algorithm| {
        call.req.header(&format!("x-amz-checksum-{algorithm}")).map(|value| (*algorithm, value.trim().to_owned()))
    });
    let invalid_part = |name: &Named| {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "InvalidPart",
            "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        )
        .with("UploadId", upload_id)
        .with("PartNumber", name.number.to_string())
        .with("ETag", name.etag.clone())
    };
    let same_etag = |a: &str, b: &str| a.trim_matches('"') == b.trim_matches('"');
    let done = call.service.with_bucket(bucket, |b| {
        let now = Utc::now();
        b.completed.retain(|_, c| (now - c.completed).num_seconds() < COMPLETED_TTL_SECONDS);
        let Some(upload) = b.uploads.get(upload_id).filter(|u| u.key == key) else {
            let done = b.completed.get(upload_id).filter(|c| c.key == key).ok_or_else(|| no_such_upload(upload_id))?;
            for name in &named {
                if !done.parts.iter().any(|(n, etag)| *n == name.number && same_etag(etag, &name.etag)) {
                    return Err(invalid_part(name));
                }
            }
            return Ok(done.clone());
        };
        let mut parts = Vec::with_capacity(named.len());
        for name in &named {
            let part = upload
                .parts
                .get(&name.number)
                .filter(|p| same_etag(&p.etag, &name.etag))
                .filter(|p| name.checksum.is_none() || name.checksum == p.checksum)
                .ok_or_else(|| invalid_part(name))?;
            parts.push(part);
        }
        let all_but_last = named.iter().zip(&parts).take(parts.len() - 1);
        if let Some((too_small, part)) = all_but_last.clone().find(|(_, p)| p.body.len() < MIN_PART_SIZE) {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "EntityTooSmall",
                "Your proposed upload is smaller than the minimum allowed object size.",
            )
            .with("ProposedSize", part.body.len().to_string())
            .with("MinSizeAllowed", MIN_PART_SIZE.to_string())
            .with("PartNumber", too_small.number.to_string()));
        }
        let object = assemble(upload, &parts);
        if let Some((algorithm, value)) = &declared {
            let base = |v: &str| v.split('-').next().unwrap_or("").to_owned();
            let matches = object.checksum.as_ref().is_some_and(|(a, v)| a == algorithm && base(v) == base(value));
            if !matches {
                return Err(AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "BadDigest",
                    format!("The {} you specified did not match the calculated checksum.", algorithm.to_uppercase()),
                ));
            }
        }
        if super::objects::is_conditional(call.req) {
            if upload.key_existed && !b.objects.contains_key(key) {
                return Err(AwsError::new(
                    StatusCode::CONFLICT,
                    "ConditionalRequestConflict",
                    "The conditional request cannot succeed due to a conflicting operation against this resource.",
                )
                .with("Key", key));
            }
            super::objects::check_write_conditions(call.req, key, b.objects.get(key))?;
        }
        let parts = named.iter().map(|n| (n.number, n.etag.clone())).collect();
        b.uploads.remove(upload_id);
        let (etag, checksum) = (object.etag.clone(), object.checksum.clone());
        let version_id = b.put(key, object);
        let done = CompletedUpload { key: key.to_owned(), completed: now, parts, etag, checksum, version_id };
        if b.completed.len() >= MAX_COMPLETED
            && let Some(oldest) = b.completed.iter().min_by_key(|(_, c)| c.completed).map(|(id, _)| id.clone())
        {
            b.completed.remove(&oldest);
        }
        b.completed.insert(upload_id.to_owned(), done.clone());
        Ok(done)
    })?;
    let mut xml = XmlWriter::new();
    xml.open("CompleteMultipartUploadResult", Some(XMLNS))
        .text("Location", &format!("{}/{bucket}/{key}", call.req.ctx.endpoint))
        .text("Bucket", bucket)
        .text("Key", key)
        .text("ETag", &done.etag);
    if let Some((algorithm, value)) = &done.checksum {
        xml.text(&format!("Checksum{}", algorithm.to_ascii_uppercase()), value).text("ChecksumType", "COMPOSITE");
    }
    xml.close("CompleteMultipartUploadResult");
    let mut response = rest_xml::ok(xml.finish());
    insert(response.headers_mut(), "x-amz-server-side-encryption", "AES256");
    if let Some(id) = &done.version_id {
        insert(response.headers_mut(), "x-amz-version-id", id);
    }
    Ok(response)
}

/// The parts a CompleteMultipartUpload body names: `<Part><PartNumber/><ETag/>[<ChecksumSHA256/>...]</Part>...`.
pub(crate) fn named_parts(body: &[u8]) -> AwsResult<Vec<Named>> {
    let root = parse_xml(body)?;
    if !root.is("CompleteMultipartUpload") {
        return Err(error::malformed_xml());
    }
    let mut named = Vec::new();
    for part in root.children_named("Part") {
        let number = part.child_text("PartNumber").and_then(|n| n.trim().parse().ok());
        let etag = part.child_text("ETag");
        let (Some(number), Some(etag)) = (number, etag) else { return Err(error::malformed_xml()) };
        let checksum = payload::ALGORITHMS.iter().find_map(|algorithm| {
            let element = format!("Checksum{}", algorithm.to_ascii_uppercase());
            part.child_text(&element).map(|v| ((*algorithm).to_owned(), v.trim().to_owned()))
        });
        named.push(Named { number, etag: etag.trim().to_owned(), checksum });
    }
    if named.is_empty() {
        return Err(error::malformed_xml());
    }
    Ok(named)
}

/// The object the parts make: their bytes in order, the ETag `"<md5 of the parts' md5s>-N"`, and the composite
/// checksum when every part came with one of the upload's algorithm.
fn assemble(upload: &MultipartUpload, parts: &[&Part]) -> super::model::Object {
    let mut body = BytesMut::with_capacity(parts.iter().map(|p| p.body.len()).sum());
    let mut md5s = Vec::with_capacity(parts.len() * 16);
    for part in parts {
        body.extend_from_slice(&part.body);
        md5s.extend_from_slice(&md5::Md5::digest(&part.body));
    }
    let algorithm = upload.checksum_algorithm.clone().or_else(|| parts.first()?.checksum.as_ref().map(|c| c.0.clone()));
    let checksum = algorithm.and_then(|algorithm| {
        let mut raw = Vec::new();
        for part in parts {
            let (part_algorithm, value) = part.checksum.as_ref()?;
            if *part_algorithm != algorithm {
                return None;
            }
            raw.extend(base64::Engine::decode(&base64::engine::general_purpose::STANDARD, value).ok()?);
        }
        let combined = payload::compute(&algorithm, &raw);
        Some((algorithm, format!("{combined}-{}", parts.len())))
    });
    super::model::Object {
        body: body.freeze(),
        etag: format!("\"{}-{}\"", hex::encode(md5::Md5::digest(&md5s)), parts.len()),
        last_modified: Utc::now(),
        checksum,
        ..upload.object.clone()
    }
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html>
pub fn abort(call: &Call<'_, S3>, bucket: &str, key: &str, upload_id: &str) -> AwsResult<Response> {
    call.authorize_on(bucket, "s3:AbortMultipartUpload", &arn(bucket, Some(key)))?;
    call.service.with_bucket(bucket, |b| match b.uploads.get(upload_id).filter(|u| u.key == key) {
        Some(_) => {
            b.uploads.remove(upload_id);
            Ok(())
        }
        None => Err(no_such_upload(upload_id)),
    })?;
    Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
}

/// A page size S3 reads from the query (`max-parts`, `max-uploads`): a non-negative integer, at most 1000 served
/// (larger values are served as 1000, as S3 does); anything else is InvalidArgument. Deviation: 0 is served as 1.
fn page_size(call: &Call<'_, S3>, name: &'static str) -> AwsResult<usize> {
    match call.req.query_param(name) {
        None => Ok(1000),
        Some(text) => {
            text.parse::<u32>().map(|n| usize::try_from(n).map_or(1000, |n| n.clamp(1, 1000))).map_err(|_| {
                error::invalid_argument(format!("Argument {name} must be an integer between 0 and 2147483647"))
                    .with("ArgumentName", name)
                    .with("ArgumentValue", text)
            })
        }
    }
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListParts.html>
///
/// By part number, `max-parts` (default and at most 1000) a page after `part-number-marker`
/// ([`pagination::window`]); `NextPartNumberMarker` is the last part served.
pub fn list_parts(call: &Call<'_, S3>, bucket: &str, key: &str, upload_id: &str) -> AwsResult<Response> {
    call.authorize_on(bucket, "s3:ListMultipartUploadParts", &arn(bucket, Some(key)))?;
    let max_parts = page_size(call, "max-parts")?;
    let marker = match call.req.query_param("part-number-marker") {
        None => 0,
        Some(text) => text.parse::<u32>().map_err(|_| {
            error::invalid_argument("Argument part-number-marker must be an integer between 0 and 2147483647")
                .with("ArgumentName", "part-number-marker")
                .with("ArgumentValue", text)
        })?,
    };
    let upload = with_upload(call, bucket, key, upload_id, |upload| Ok(upload.clone()))?;
    let parts = upload.parts.iter().map(|(number, part)| (pagination::number(i64::from(*number)), (*number, part)));
    let window = pagination::window(parts.collect(), max_parts, Some(&pagination::number(i64::from(marker))));
    let next = window.items.last().map_or(0, |(_, (number, _))| *number);
    let mut xml = XmlWriter::new();
    xml.open("ListPartsResult", Some(XMLNS))
        .text("Bucket", bucket)
        .text("Key", key)
        .text("UploadId", upload_id)
        .text("PartNumberMarker", &marker.to_string())
        .text("NextPartNumberMarker", &next.to_string())
        .text("MaxParts", &max_parts.to_string())
        .text("IsTruncated", if window.truncated { "true" } else { "false" })
        .text("StorageClass", "STANDARD");
    for (_, (number, part)) in &window.items {
        xml.open("Part", None)
            .text("PartNumber", &number.to_string())
            .text("LastModified", &xml_time(&part.last_modified))
            .text("ETag", &part.etag)
            .text("Size", &part.body.len().to_string());
        if let Some((algorithm, value)) = &part.checksum {
            xml.text(&format!("Checksum{}", algorithm.to_ascii_uppercase()), value);
        }
        xml.close("Part");
    }
    xml.close("ListPartsResult");
    Ok(rest_xml::ok(xml.finish()))
}

/// An upload's place in ListMultipartUploads: by key, then initiation time, then id.
fn upload_order(upload: &MultipartUpload, id: &str) -> String {
    let initiated = upload.initiated.timestamp_nanos_opt().unwrap_or(i64::MAX);
    pagination::key(&[&upload.key, &pagination::number(initiated), id])
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListMultipartUploads.html>
///
/// By key, then initiation time, `max-uploads` (default and at most 1000) a page ([`pagination::window`]): after
/// `key-marker` alone, the keys after it; with `upload-id-marker`, the uploads of that key after that upload too
/// (an upload id the key no longer has: the keys after it). `NextKeyMarker`/`NextUploadIdMarker` name the last
/// upload served. Deviation: no `prefix` or `delimiter`.
pub fn list_uploads(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let max_uploads = page_size(call, "max-uploads")?;
    let key_marker = call.req.query_param("key-marker").unwrap_or("");
    // S3 ignores upload-id-marker without key-marker.
    let id_marker = call.req.query_param("upload-id-marker").filter(|_| !key_marker.is_empty()).unwrap_or("");
    let uploads: Vec<(String, (String, MultipartUpload))> = call.service.with_bucket(bucket, |b| {
        Ok(b.uploads.iter().map(|(id, u)| (upload_order(u, id), (id.clone(), u.clone()))).collect())
    })?;
    let after = match uploads.iter().find(|(_, (id, u))| id == id_marker && u.key == key_marker) {
        Some((order, _)) => Some(order.clone()),
        // Past every upload of the key: its parts are followed by NUL, and nothing sorts after U+10FFFF.
        None if !key_marker.is_empty() => Some(pagination::key(&[key_marker, "\u{10FFFF}"])),
        None => None,
    };
    let window = pagination::window(uploads, max_uploads, after.as_deref());
    let mut xml = XmlWriter::new();
    xml.open("ListMultipartUploadsResult", Some(XMLNS))
        .text("Bucket", bucket)
        .text("KeyMarker", key_marker)
        .text("UploadIdMarker", id_marker);
    if let Some((_, (id, upload))) = window.items.last() {
        xml.text("NextKeyMarker", &upload.key).text("NextUploadIdMarker", id);
    }
    xml.text("MaxUploads", &max_uploads.to_string())
        .text("IsTruncated", if window.truncated { "true" } else { "false" });
    for (_, (id, upload)) in &window.items {
        xml.open("Upload", None)
            .text("Key", &upload.key)
            .text("UploadId", id)
            .text("Initiated", &xml_time(&upload.initiated))
            .text("StorageClass", "STANDARD")
            .close("Upload");
    }
    xml.close("ListMultipartUploadsResult");
    Ok(rest_xml::ok(xml.finish()))
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (http::HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
        headers.insert(name, value);
    }
}
