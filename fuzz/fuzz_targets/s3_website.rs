//! S3 static website hosting: a PutBucketWebsite document, GetBucketWebsite's document for what it holds (which
//! must read back the same), and the website endpoint's host names (the input's first line).
#![no_main]
use crts_emulator::fuzzing::{s3_website, s3_website_xml};
use crts_emulator::services::s3::website::bucket_from_website_host;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(host) = data.split(|b| *b == b'\n').next().and_then(|l| std::str::from_utf8(l).ok()) {
        if let Some(bucket) = bucket_from_website_host(host) {
            assert!(!bucket.is_empty() && host.to_ascii_lowercase().contains(&bucket), "hosts are case-insensitive");
        }
    }
    let Ok(website) = s3_website(data) else { return };
    let written = s3_website_xml(&website);
    let again = s3_website(written.as_bytes()).expect("GetBucketWebsite's document is a valid PutBucketWebsite body");
    assert_eq!(again, website, "the configuration reads back the same: {written}");
});
