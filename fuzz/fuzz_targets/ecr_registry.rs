//! ECR's registry (the OCI Distribution API, `/v2/...`): a sequence of requests (separated by `--next--`) from a
//! client logged in with a token, against a registry holding one repository. Registry paths (`<name>/manifests/
//! <reference>`, `<name>/blobs/uploads/<id>`, ...), tags and digests, `Content-Range`, uploads and manifests
//! are all read from the request. No request may panic or be answered 500; every error is the spec's JSON.
#![no_main]
use std::sync::OnceLock;

use base64::Engine as _;
use crts_emulator::services::ecr::Ecr;
use crts_emulator::services::ecr::model::Repository;
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("a runtime"))
}

fn registry() -> (Ecr, String) {
    let ecr = Ecr::new();
    let (token, _) = ecr.issue_token(ACCOUNT, REGION);
    ecr.with_registry(ACCOUNT, REGION, |registry| {
        let name = "crts-batch".to_owned();
        registry.repositories.insert(
            name.clone(),
            Repository {
                arn: format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}"),
                registry_id: ACCOUNT.to_owned(),
                uri: format!("{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}"),
                created_at: 0.0,
                tag_mutability: "MUTABLE".to_owned(),
                scan_on_push: false,
                images: Default::default(),
                tags: Default::default(),
                blobs: Default::default(),
                resource_tags: Default::default(),
                name,
            },
        );
    });
    (ecr, token)
}

fuzz_target!(|data: &[u8]| {
    let (ecr, token) = registry();
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{token}"));
    for part in crts_fuzz::split(data).into_iter().take(8) {
        let mut raw = crts_fuzz::request(part);
        if !raw.headers.contains_key("authorization") {
            let value = HeaderValue::from_str(&format!("Basic {basic}")).expect("base64 is a header value");
            raw.headers.insert("authorization", value);
        }
        let req = raw.aws(crts_emulator::identity::Caller::Anonymous);
        let response = runtime().block_on(crts_emulator::services::ecr::registry::handle(&ecr, req));
        let status = response.status();
        assert!(status != http::StatusCode::INTERNAL_SERVER_ERROR, "a registry request is never a 500");
        if status.is_client_error() && raw.method != http::Method::HEAD {
            let body =
                runtime().block_on(axum::body::to_bytes(response.into_body(), usize::MAX)).expect("a body in memory");
            let value: serde_json::Value = serde_json::from_slice(&body).expect("an error is JSON");
            assert!(value["errors"][0]["code"].is_string(), "an error is the spec's error list: {value}");
        }
    }
});
