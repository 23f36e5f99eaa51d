//! S3 CORS: a PutBucketCors document, GetBucketCors's document for the rules it holds (which must read back as
//! the same rules), and the preflight and actual-request evaluation of a request (after `--next--`).
#![no_main]
use crts_emulator::fuzzing::{s3_cors, s3_cors_xml};
use crts_emulator::services::s3::cors::{actual_request_headers, preflight};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = crts_fuzz::split(data);
    let Ok(rules) = s3_cors(parts[0]) else { return };
    assert!(!rules.is_empty() && rules.len() <= 100);
    let written = s3_cors_xml(&rules);
    let again = s3_cors(written.as_bytes()).expect("GetBucketCors's document is a valid PutBucketCors body");
    assert_eq!(again, rules, "the rules read back the same: {written}");
    let Some(request) = parts.get(1) else { return };
    let req = crts_fuzz::request(request);
    if let Ok(headers) = preflight(Some(&rules), &req.headers) {
        assert!(headers.contains_key("access-control-allow-origin") && headers.contains_key("vary"));
    }
    let _ = actual_request_headers(Some(&rules), &req.headers, req.method.as_str());
});
