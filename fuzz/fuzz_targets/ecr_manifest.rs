//! ECR / OCI manifests: what an image manifest or index references, the digest of its bytes, repository names.
#![no_main]
use crts_emulator::services::ecr::model::{digest_of, references, valid_repository_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(refs) = references(data) {
        assert!(refs.manifests.is_empty() || refs.blobs.is_empty(), "an index references manifests, an image blobs");
        let value: serde_json::Value = serde_json::from_slice(data).expect("a manifest read is JSON");
        if value["manifests"].is_array() {
            assert_eq!(refs.manifests.len(), value["manifests"].as_array().map_or(0, Vec::len));
        }
    }
    let digest = digest_of(data);
    assert!(digest.starts_with("sha256:") && digest.len() == 71);
    if let Ok(name) = std::str::from_utf8(data) {
        if valid_repository_name(name) {
            assert!(name.len() >= 2 && !name.starts_with('/') && !name.ends_with('/') && !name.contains("//"));
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/".contains(&b)));
        }
    }
});
