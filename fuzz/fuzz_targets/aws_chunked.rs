//! S3 upload bodies: aws-chunked (signed and unsigned chunks, trailers) and the checksums that vouch for them.
//! Input byte 0 chooses: odd, the rest is a raw request (headers and body) for `payload::decode`; even, the rest
//! is object data that is chunked (chunk size from byte 1) with a trailing CRC32, which must decode back.
#![no_main]
use bytes::Bytes;
use crts_emulator::services::s3::payload::{compute, decode};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 1 {
        let req = crts_fuzz::request(rest);
        let streaming =
            req.headers.contains_key("x-amz-content-sha256") || req.headers.contains_key("content-encoding");
        if let Ok(payload) = decode(&req.headers, req.body.clone()) {
            if !streaming {
                assert_eq!(payload.body, req.body, "a plain body is the object");
            }
            if let Some((algorithm, value)) = &payload.checksum {
                assert_eq!(&compute(algorithm, &payload.body), value, "a checksum returned was verified");
            }
        }
        return;
    }
    let Some((&size, object)) = rest.split_first() else { return };
    let size = usize::from(size.max(1));
    let mut body = Vec::new();
    for (i, chunk) in object.chunks(size).enumerate() {
        if i % 2 == 0 {
            body.extend_from_slice(format!("{:x};chunk-signature={:064x}\r\n", chunk.len(), i).as_bytes());
        } else {
            body.extend_from_slice(format!("{:X}\r\n", chunk.len()).as_bytes());
        }
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    let crc = compute("crc32", object);
    body.extend_from_slice(format!("0\r\nx-amz-checksum-crc32:{crc}\r\n\r\n").as_bytes());
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-content-sha256", HeaderValue::from_static("STREAMING-UNSIGNED-PAYLOAD-TRAILER"));
    headers.insert("content-encoding", HeaderValue::from_static("aws-chunked"));
    headers.insert("x-amz-trailer", HeaderValue::from_static("x-amz-checksum-crc32"));
    headers.insert("x-amz-decoded-content-length", HeaderValue::from(object.len()));
    let payload = decode(&headers, Bytes::from(body)).expect("a well-formed chunked body decodes");
    assert_eq!(&payload.body[..], object);
    assert_eq!(payload.checksum, Some(("crc32".to_owned(), crc)));
});
