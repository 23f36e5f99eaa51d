//! SigV4: the credential scope read from an `Authorization` header or a presigned URL's `X-Amz-Credential`.
#![no_main]
use crts_emulator::protocol::sigv4::{CredentialScope, credential_scope};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

fn check(scope: Option<CredentialScope>) {
    if let Some(scope) = scope {
        for part in [&scope.access_key_id, &scope.region, &scope.service] {
            assert!(!part.is_empty() && !part.contains('/'), "a scope part is one non-empty segment: {scope:?}");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The input as a whole request (its Authorization header, its query string).
    let req = crts_fuzz::request(data);
    let query = crts_emulator::protocol::parse_query(&req.query);
    check(credential_scope(&req.headers, &query));
    // The input as the Authorization header alone, and as the X-Amz-Credential parameter alone.
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value);
        let scope = credential_scope(&headers, &[]);
        if scope.is_some() {
            assert!(data.starts_with(b"AWS4-HMAC-SHA256"), "only a SigV4 header has a scope");
        }
        check(scope);
    }
    let credential = String::from_utf8_lossy(data).into_owned();
    let scope = credential_scope(&HeaderMap::new(), &[("X-Amz-Credential".to_owned(), credential.clone())]);
    if let Some(scope) = &scope {
        assert!(credential.starts_with(&format!("{}/", scope.access_key_id)));
    }
    check(scope);
});
