//! The CRTS image: the built-in builder's push is pulled back by the Rust OCI client; the runbook runs with each
//! builder (Docker's commands, and the built-in one) and the image check passes; the Docker-built image runs.

use std::process::Command;

use crate::prerequisites::docker_engine;
use crate::support::{emulator, harness_binary, repo_root, sdk_config, write_job_binary};

/// The fixture's context with the job binary added, as the step prepares it.
fn staged_context() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary directory");
    std::fs::copy(repo_root().join("fixtures/image/Dockerfile"), dir.path().join("Dockerfile")).expect("copy");
    write_job_binary(dir.path());
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_in_builder_pushes_an_image_that_the_rust_oci_client_pulls_back() {
    use oci_client::client::{ClientConfig, ClientProtocol};
    use oci_client::secrets::RegistryAuth;
    use oci_client::{Client, Reference};

    let emulator = emulator().await;
    let config = sdk_config(emulator.endpoint()).await;
    let ecr = aws_sdk_ecr::Client::new(&config);
    ecr.create_repository().repository_name("crts").send().await.expect("CreateRepository");

    let context = staged_context();
    let image = crts_harness::image::build(context.path()).expect("the fixture builds without Docker");
    assert_eq!(image.not_applied, Vec::<String>::new(), "the fixture uses only what the built-in builder applies");
    let again = crts_harness::image::build(context.path()).expect("builds twice");
    assert_eq!(image.manifest, again.manifest, "the same context gives the same image");

    let token = ecr.get_authorization_token().send().await.expect("GetAuthorizationToken");
    let data = &token.authorization_data()[0];
    let decoded = String::from_utf8(
        base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            data.authorization_token().unwrap_or_default(),
        )
        .expect("base64"),
    )
    .expect("utf-8");
    let (user, password) = decoded.split_once(':').expect("user:password");
    let host = data.proxy_endpoint().unwrap_or_default().trim_start_matches("http://").to_owned();
    let login = crts_harness::image::RegistryLogin {
        host: host.clone(),
        http: true,
        username: user.to_owned(),
        password: password.to_owned(),
    };
    let digest = crts_harness::image::push_oci(&image, &login, "crts", "latest").await.expect("push");

    let described = ecr.describe_images().repository_name("crts").send().await.expect("DescribeImages");
    let detail = &described.image_details()[0];
    assert_eq!(detail.image_digest(), Some(digest.as_str()));
    assert_eq!(detail.image_tags(), ["latest"]);
    assert_eq!(detail.image_size_in_bytes(), Some(image.layers[0].data.len() as i64));

    let client = Client::new(ClientConfig { protocol: ClientProtocol::Http, ..Default::default() });
    let reference = Reference::with_tag(host, "crts".into(), "latest".into());
    let auth = RegistryAuth::Basic(user.to_owned(), password.to_owned());
    let pulled = client
        .pull(&reference, &auth, vec!["application/vnd.oci.image.layer.v1.tar+gzip"])
        .await
        .expect("the Rust OCI client pulls what was pushed");
    assert_eq!(pulled.digest.as_deref(), Some(digest.as_str()));
    assert_eq!(pulled.layers.len(), 1);
    assert_eq!(pulled.layers[0].data, image.layers[0].data);
    let config: serde_json::Value = serde_json::from_slice(&pulled.config.data).expect("config JSON");
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["/crts/run", "smoke", "default"]));
    assert_eq!(config["config"]["WorkingDir"], "/crts");
    emulator.shutdown().await;
}

/// Runs the runbook with a builder forced, in a subprocess (the builder is chosen by environment).
fn run_with_builder(builder: &str) -> serde_json::Value {
    let out = Command::new(harness_binary())
        .args(["run", "--format", "json"])
        .arg(repo_root().join("scenarios/crts.yaml"))
        .env("CRTS_IMAGE_BUILDER", builder)
        .output()
        .expect("run the harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&stdout).expect("a JSON report")
}

fn step_notes(report: &serde_json::Value, id: &str) -> String {
    let step = report["steps"].as_array().and_then(|s| s.iter().find(|s| s["id"] == id)).expect("step reported");
    step["notes"].to_string()
}

fn check_status(report: &serde_json::Value, name: &str) -> String {
    let check = report["checks"].as_array().and_then(|c| c.iter().find(|c| c["name"] == name)).expect("check reported");
    check["outcome"]["status"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn the_runbook_passes_with_the_built_in_builder() {
    let report = run_with_builder("built-in");
    assert!(step_notes(&report, "dockerfile.build-tag-push").contains("built without Docker"), "{report}");
    assert_eq!(check_status(&report, "image"), "passed");
}

#[test]
fn the_runbook_passes_with_dockers_commands_and_the_image_runs() {
    if !docker_engine() {
        crate::prerequisites::docker_missing("the Docker path of the image step needs `docker`");
        return;
    }
    let report = run_with_builder("docker");
    let notes = step_notes(&report, "dockerfile.build-tag-push");
    assert!(notes.contains("built and pushed with Docker"), "{notes}");
    assert_eq!(check_status(&report, "image"), "passed");
    // The image the runbook built is a working CRTS job image.
    let out = Command::new("docker")
        .args(["run", "--rm", "crts", "/crts/run", "smoke", "staging"])
        .output()
        .expect("docker run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "crts: running the smoke suite against staging\ncrts: smoke suite passed\n"
    );
    let refused = Command::new("docker")
        .args(["run", "--rm", "crts", "/crts/run", "nightly", "staging"])
        .output()
        .expect("docker run");
    assert_eq!(refused.status.code(), Some(3));
}
