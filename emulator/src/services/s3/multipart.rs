//! Multipart uploads, which `aws s3 cp`, boto3's `upload_file` and the SDKs' transfer managers use for large
//! files: CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload, ListParts and
//! ListMultipartUploads.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>
//!
//! Deliberate deviations: UploadPartCopy is not implemented; ListMultipartUploads and ListParts page by S3's
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
use super::model::{MultipartUpload, Part};
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
    super::objects::check_acl(call.req)?;
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
    let upload = MultipartUpload {
        key: key.to_owned(),
        initiated: Utc::now(),
        object: super::objects::new_object(Bytes::new(), &call.req.headers),
        checksum_algorithm: checksum_algorithm.clone(),
        parts: BTreeMap::new(),
    };
    call.service.with_bucket(bucket, |b| {
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

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_UploadPart.html>
pub fn upload_part(call: &Call<'_, S3>, bucket: &str, key: &str, upload_id: &str) -> AwsResult<Response> {
    call.authorize_on(bucket, "s3:PutObject", &arn(bucket, Some(key)))?;
    if call.req.headers.contains_key("x-amz-copy-source") {
        return Err(AwsError::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "UploadPartCopy is not implemented by crts-emulator: upload the part's bytes instead",
        ));
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
}

/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>: the parts named, in
/// ascending order, with their ETags, become the object; every part but the last must be at least 5 MiB.
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
    let object = call.service.with_bucket(bucket, |b| {
        let upload = b.uploads.get(upload_id).filter(|u| u.key == key).ok_or_else(|| no_such_upload(upload_id))?;
        let mut parts = Vec::with_capacity(named.len());
        for name in &named {
            let part = upload
                .parts
                .get(&name.number)
                .filter(|p| p.etag.trim_matches('"') == name.etag.trim_matches('"'))
                .ok_or_else(|| {
                    AwsError::new(
                        StatusCode::BAD_REQUEST,
                        "InvalidPart",
                        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
                    )
                    .with("UploadId", upload_id)
                    .with("PartNumber", name.number.to_string())
                    .with("ETag", name.etag.clone())
                })?;
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
        b.uploads.remove(upload_id);
        b.objects.insert(key.to_owned(), object.clone());
        Ok(object)
    })?;
    let mut xml = XmlWriter::new();
    xml.open("CompleteMultipartUploadResult", Some(XMLNS))
        .text("Location", &format!("{}/{bucket}/{key}", call.req.ctx.endpoint))
        .text("Bucket", bucket)
        .text("Key", key)
        .text("ETag", &object.etag);
    if let Some((algorithm, value)) = &object.checksum {
        xml.text(&format!("Checksum{}", algorithm.to_ascii_uppercase()), value).text("ChecksumType", "COMPOSITE");
    }
    xml.close("CompleteMultipartUploadResult");
    let mut response = rest_xml::ok(xml.finish());
    insert(response.headers_mut(), "x-amz-server-side-encryption", "AES256");
    Ok(response)
}

/// The parts a CompleteMultipartUpload body names: `<Part><PartNumber/><ETag/></Part>...`.
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
        named.push(Named { number, etag: etag.trim().to_owned() });
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
