//! `--target endpoint=URL` through the command line against `crts-harness serve`, and the docker-compose.yml that
//! the README pairs with it.

use std::process::Command;

use crate::prerequisites::{Prerequisite, require};
use crate::support::{harness_binary, repo_root, serve};

/// What users type: `crts-harness serve` in one terminal, `crts-harness run --target endpoint=URL` in another.
#[test]
fn the_endpoint_target_runs_the_runbook_against_crts_harness_serve() {
    require(&[Prerequisite::Browser]);
    let served = serve();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(harness_binary())
        .args(["run", "--target"])
        .arg(format!("endpoint={}", served.endpoint))
        .arg("--report-dir")
        .arg(dir.path())
        .current_dir(repo_root())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run crts-harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "crts-harness run failed:\n{stdout}\n{stderr}");
    assert!(stdout.starts_with("scenario crts on endpoint (target ready in "), "{stdout}");
    assert!(stdout.contains("the embedded emulator: "), "the start times side by side: {stdout}");
    assert!(stdout.contains("PASSED: 26/26 steps, 6/6 checks passed"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("report.json")).expect("report.json"))
            .expect("report.json is JSON");
    assert_eq!(report["target"], "endpoint");
    // An endpoint that is not LocalStack keeps every capability: nothing is reported unsupported.
    assert!(!stdout.contains("unsupp."), "{stdout}");
    assert!(!dir.path().join("endpoint.log").exists(), "no container, no container logs");
    // The browser check's screenshots are in the report directory, as PNG.
    for name in ["swagger-browser-api-key.png", "swagger-browser-wrong-key.png"] {
        let png = std::fs::read(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    }

    // What `run` made, `verify` finds in sync, changing nothing (README: "Validate a real account").
    let out = Command::new(harness_binary())
        .args(["verify", "--target"])
        .arg(format!("endpoint={}", served.endpoint))
        .current_dir(repo_root())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run crts-harness verify");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("IN SYNC: 26 in sync of 26 steps; 4/6 checks passed"), "{stdout}");
}

/// Issue 12's "done when": `run --provision --target endpoint=URL` against `crts-harness serve` passes every check
/// and leaves the server as it found it (its full read-back, tags included, before and after).
#[test]
fn a_provisioned_run_against_serve_passes_and_leaves_it_as_it_found_it() {
    require(&[Prerequisite::Browser, Prerequisite::Boto3]);
    let served = serve();
    let dump = || {
        let out = Command::new("python3")
            .arg(repo_root().join("tests/boto3/console_stack.py"))
            .arg("dump")
            .env("AWS_ENDPOINT_URL", &served.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("python3");
        assert!(out.status.success(), "dump: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("the dump is JSON")
    };
    let before = dump();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(harness_binary())
        .args(["run", "--provision", "--report-dir"])
        .arg(dir.path())
        .arg(format!("--target=endpoint={}", served.endpoint))
        .current_dir(repo_root())
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run crts-harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("PASSED: 26/26 steps, 6/6 checks passed"), "{stdout}");
    assert_eq!(before, dump(), "the provisioned run left serve changed");
}

/// The compose tool that is installed: the `docker compose` plugin, else Debian's `docker-compose`.
fn compose() -> Command {
    let plugin = Command::new("docker").args(["compose", "version"]).output().is_ok_and(|o| o.status.success());
    if plugin {
        let mut command = Command::new("docker");
        command.arg("compose");
        command
    } else {
        Command::new("docker-compose")
    }
}

#[test]
fn docker_compose_config_validates_the_compose_file_and_its_overrides() {
    require(&[Prerequisite::Compose]);
    let config = |image: Option<&str>| {
        let mut command = compose();
        command.arg("config").current_dir(repo_root()).env("LOCALSTACK_AUTH_TOKEN", "ls-test-token");
        match image {
            Some(image) => command.env("LOCALSTACK_IMAGE", image),
            None => command.env_remove("LOCALSTACK_IMAGE"),
        };
        let out = command
            .output()
            .expect("docker compose or docker-compose is installed (.ci/run installs Debian's docker-compose)");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "compose config refused the file:\n{}", String::from_utf8_lossy(&out.stderr));
        stdout
    };
    let default = config(None);
    assert!(default.contains("image: localstack/localstack:4.14.0"), "pinned to a tag that needs no token:\n{default}");
    assert!(default.contains("/var/run/docker.sock"), "the Docker socket is mounted for Lambda:\n{default}");
    assert!(default.contains("healthcheck:"), "{default}");
    assert!(default.contains("4566"), "{default}");
    assert!(default.contains("LOCALSTACK_AUTH_TOKEN: ls-test-token"), "the token is passed through:\n{default}");
    let local = config(Some("crts-localstack:2026.3.0"));
    assert!(local.contains("image: crts-localstack:2026.3.0"), "the image is overridable:\n{local}");
}
