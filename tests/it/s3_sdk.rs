//! The AWS SDK for Rust against the emulator's S3, as it uploads by default: a body streamed from a file goes
//! `aws-chunked` with its CRC32 in a trailer, an in-memory body with an `x-amz-checksum-crc32` header. The
//! interceptor records what the SDK really sent, so the test fails if the SDK stops chunking (and the emulator's
//! decoder would then go untested) as well as if the emulator mishandles it.

use std::sync::{Arc, Mutex};

use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_s3::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ChecksumMode;

use crate::support::{emulator, sdk_config};

/// A request's headers, names in lowercase.
type Headers = Vec<(String, String)>;

/// The headers of every request the client sent, in order.
#[derive(Debug, Clone, Default)]
struct SentHeaders(Arc<Mutex<Vec<Headers>>>);

impl SentHeaders {
    fn last(&self) -> Headers {
        self.0.lock().expect("not poisoned").last().cloned().unwrap_or_default()
    }
}

impl Intercept for SentHeaders {
    fn name(&self) -> &'static str {
        "SentHeaders"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let headers = context.request().headers().iter().map(|(k, v)| (k.to_ascii_lowercase(), v.to_owned())).collect();
        self.0.lock().expect("not poisoned").push(headers);
        Ok(())
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_sdk_uploads_aws_chunked_bodies_with_trailing_checksums_and_reads_them_back() {
    let emulator = emulator().await;
    let sent = SentHeaders::default();
    let config = aws_sdk_s3::config::Builder::from(&sdk_config(emulator.endpoint()).await)
        .force_path_style(true)
        .interceptor(sent.clone())
        .build();
    let s3 = aws_sdk_s3::Client::from_conf(config);
    s3.create_bucket().bucket("streamed").send().await.expect("CreateBucket");

    // 300 KiB from a file: several 64 KiB chunks, then the trailer.
    let data: Vec<u8> = (0..300 * 1024u32).map(|i| (i % 251) as u8).collect();
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), &data).expect("write the upload");
    let body = ByteStream::from_path(file.path()).await.expect("a body from the file");
    let put = s3.put_object().bucket("streamed").key("big.bin").body(body).send().await.expect("PutObject, streamed");
    let headers = sent.last();
    assert!(
        header(&headers, "content-encoding").is_some_and(|v| v.contains("aws-chunked")),
        "the SDK streamed the file aws-chunked: {headers:?}"
    );
    assert_eq!(header(&headers, "x-amz-trailer"), Some("x-amz-checksum-crc32"), "{headers:?}");
    assert_eq!(header(&headers, "x-amz-decoded-content-length"), Some(data.len().to_string().as_str()));
    let crc32 = put.checksum_crc32().expect("S3 answers the checksum it verified").to_owned();

    let got = s3
        .get_object()
        .bucket("streamed")
        .key("big.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.checksum_crc32(), Some(crc32.as_str()));
    assert_eq!(got.content_length(), Some(data.len() as i64));
    let read = got.body.collect().await.expect("the body arrives (and the SDK validated its checksum)").into_bytes();
    assert!(read == data, "the object is the file's bytes, not the chunk framing");

    // From memory: no chunking, the checksum in a header; verified all the same.
    s3.put_object()
        .bucket("streamed")
        .key("small.txt")
        .body(ByteStream::from_static(b"hello world"))
        .send()
        .await
        .expect("PutObject, in memory");
    let headers = sent.last();
    assert_eq!(header(&headers, "x-amz-checksum-crc32"), Some("DUoRhQ=="), "{headers:?}");
    let head = s3.head_object().bucket("streamed").key("small.txt").send().await.expect("HeadObject");
    assert_eq!(head.content_length(), Some(11));
}
