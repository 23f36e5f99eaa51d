//! Upload bodies as current SDKs send them: plain, or `aws-chunked` (signed `size;chunk-signature=...` chunks or
//! unsigned ones) with trailing headers, plus the `x-amz-checksum-*` flexible checksums, which are verified.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html>,
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, StatusCode};
use md5::Digest as _;

use super::error;
use crate::protocol::{AwsError, AwsResult};

/// The algorithms of `x-amz-checksum-<name>`, in the order S3 documents them.
pub const ALGORITHMS: &[&str] = &["crc32", "crc32c", "crc64nvme", "sha1", "sha256"];

/// A decoded upload: the object bytes and the checksum that came with them (verified).
#[derive(Debug)]
pub struct Payload {
    pub body: Bytes,
    /// `(algorithm, base64 value)`.
    pub checksum: Option<(String, String)>,
}

/// Decodes the request body of an upload and verifies its checksum and declared length.
pub fn decode(headers: &HeaderMap, body: Bytes) -> AwsResult<Payload> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let streaming = header("x-amz-content-sha256").is_some_and(|v| v.starts_with("STREAMING-"))
        || header("content-encoding").is_some_and(|v| v.split(',').any(|e| e.trim() == "aws-chunked"));
    let (body, trailers) = if streaming { dechunk(&body)? } else { (body, Vec::new()) };
    // A trailer announced in `x-amz-trailer` must arrive: its checksum is what vouches for the body.
    if let Some(announced) = header("x-amz-trailer") {
        for name in announced.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if !trailers.iter().any(|(k, _)| k.eq_ignore_ascii_case(name)) {
                return Err(AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "MalformedTrailerError",
                    format!(
                        "The request contained trailing data that was not well-formed or did not conform to our \
                         published schema. ({name} was announced in x-amz-trailer and did not arrive)"
                    ),
                ));
            }
        }
    }
    if let Some(declared) = header("x-amz-decoded-content-length") {
        let declared: usize = declared.parse().map_err(|_| {
            error::invalid_argument(format!("x-amz-decoded-content-length is not a number: {declared}"))
        })?;
        if declared != body.len() {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "IncompleteBody",
                "You did not provide the number of bytes specified by the Content-Length HTTP header",
            ));
        }
    }
    let mut checksum = None;
    for algorithm in ALGORITHMS {
        let name = format!("x-amz-checksum-{algorithm}");
        let sent = header(&name)
            .map(str::to_owned)
            .or_else(|| trailers.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name)).map(|(_, v)| v.clone()));
        if let Some(sent) = sent {
            let computed = compute(algorithm, &body);
            if computed != sent {
                return Err(AwsError::new(
                    StatusCode::BAD_REQUEST,
                    "BadDigest",
                    format!("The {} you specified did not match the calculated checksum.", algorithm.to_uppercase()),
                ));
            }
            checksum = Some(((*algorithm).to_owned(), sent));
        }
    }
    if let Some(md5) = header("content-md5") {
        let computed = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(&body));
        if computed != md5 {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "BadDigest",
                "The Content-MD5 you specified did not match what we received.",
            ));
        }
    }
    Ok(Payload { body, checksum })
}

/// The base64 checksum of `data` with one of [`ALGORITHMS`].
pub fn compute(algorithm: &str, data: &[u8]) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match algorithm {
        "crc32" => b64(&(crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32).to_be_bytes()),
        "crc32c" => b64(&(crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data) as u32).to_be_bytes()),
        "crc64nvme" => b64(&crc_fast::checksum(crc_fast::CrcAlgorithm::Crc64Nvme, data).to_be_bytes()),
        "sha1" => b64(&sha1::Sha1::digest(data)),
        _ => b64(&sha2::Sha256::digest(data)),
    }
}

/// The object's ETag: the quoted hex MD5 of its bytes.
pub fn etag(data: &[u8]) -> String {
    format!("\"{}\"", hex::encode(md5::Md5::digest(data)))
}

/// Reassembles an `aws-chunked` body: `<hex size>[;chunk-signature=...]\r\n<data>\r\n` ... `0...\r\n`, then
/// trailing `name:value\r\n` lines and a final `\r\n`. Returns the data and the trailers.
fn dechunk(raw: &[u8]) -> AwsResult<(Bytes, Vec<(String, String)>)> {
    let bad = |why: &str| {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "IncompleteBody",
            format!("The aws-chunked request body could not be decoded: {why}"),
        )
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut at = 0;
    loop {
        let line_end = find_crlf(raw, at).ok_or_else(|| bad("a chunk header has no CRLF"))?;
        let line = std::str::from_utf8(&raw[at..line_end]).map_err(|_| bad("a chunk header is not text"))?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| bad(&format!("bad chunk size `{size_text}`")))?;
        at = line_end + 2;
        if size == 0 {
            break;
        }
        let end = at.checked_add(size).filter(|end| *end <= raw.len()).ok_or_else(|| bad("a chunk is truncated"))?;
        out.extend_from_slice(&raw[at..end]);
        at = end;
        if raw.get(at..at + 2) != Some(b"\r\n") {
            return Err(bad("a chunk is not followed by CRLF"));
        }
        at += 2;
    }
    let mut trailers = Vec::new();
    while at < raw.len() {
        let line_end = find_crlf(raw, at).unwrap_or(raw.len());
        let line = String::from_utf8_lossy(&raw[at..line_end]);
        at = line_end + 2;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            trailers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    Ok((Bytes::from(out), trailers))
}

fn find_crlf(raw: &[u8], from: usize) -> Option<usize> {
    raw.get(from..)?.windows(2).position(|w| w == b"\r\n").map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (http::HeaderName::from_static(k), v.parse().expect("valid"))).collect()
    }

    #[test]
    fn unsigned_chunks_with_a_trailing_checksum_are_reassembled_and_verified() {
        let crc = compute("crc32", b"hello world");
        let body = format!("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n");
        let h = headers(&[
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "11"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ]);
        let payload = decode(&h, Bytes::from(body)).expect("decodes");
        assert_eq!(&payload.body[..], b"hello world");
        assert_eq!(payload.checksum, Some(("crc32".into(), crc)));
    }

    #[test]
    fn signed_chunks_are_reassembled() {
        let body = "b;chunk-signature=abc\r\nhello world\r\n0;chunk-signature=def\r\n\r\n";
        let h = headers(&[("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")]);
        assert_eq!(&decode(&h, Bytes::from(body)).expect("decodes").body[..], b"hello world");
    }

    #[test]
    fn wrong_checksums_and_truncated_chunks_are_refused() {
        let h = headers(&[("x-amz-checksum-crc32", "AAAAAA==")]);
        assert_eq!(decode(&h, Bytes::from_static(b"data")).expect_err("refused").code, "BadDigest");
        let h = headers(&[("content-encoding", "aws-chunked")]);
        assert_eq!(decode(&h, Bytes::from_static(b"ff\r\nshort")).expect_err("refused").code, "IncompleteBody");
        let h = headers(&[("content-encoding", "aws-chunked"), ("x-amz-trailer", "x-amz-checksum-crc32")]);
        let unvouched = Bytes::from_static(b"4\r\ndata\r\n0\r\n\r\n");
        assert_eq!(decode(&h, unvouched).expect_err("refused").code, "MalformedTrailerError");
    }

    #[test]
    fn known_checksum_values() {
        // Values from S3's documentation examples and the SDKs' test vectors for "hello world".
        assert_eq!(compute("crc32", b"hello world"), "DUoRhQ==");
        assert_eq!(compute("sha256", b"hello world"), "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=");
        assert_eq!(etag(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
    }
}
