//! What the tests need from the machine beyond Rust and Python. `scripts/test` (the README's test command)
//! installs all of it; plain `cargo test` on a machine without it fails, in each test that needs something,
//! with one line per missing prerequisite that names it and the script, instead of a snapshot diff.

use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// Something a test needs that a fresh machine may not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prerequisite {
    /// Chromium, for the swagger_browser check (whose snapshots record a real browser's view).
    Browser,
    /// boto3 and PyYAML for `python3`, for the boto3 client tests (PyYAML reads API Gateway's YAML exports).
    Boto3,
    /// The AWS CLI (`aws`), for the CLI client tests.
    AwsCli,
    /// The AWS CLI v2 (Debian's package awscli at /usr/bin/aws, or `CRTS_AWS_CLI_V2`), for `aws logs tail`, a
    /// command the CLI v1 lacks.
    AwsCliV2,
    /// curl, which the CLI tests' scripts use for plain HTTP.
    Curl,
    /// `docker compose` or Debian's `docker-compose`, for the compose file's test.
    Compose,
}

impl Prerequisite {
    /// `None` when present, else the line that says what is missing and where it comes from.
    fn missing(self) -> Option<String> {
        static FOUND: [OnceLock<Option<String>>; 6] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
        FOUND[self as usize].get_or_init(|| self.check()).clone()
    }

    fn check(self) -> Option<String> {
        let (present, what) = match self {
            Prerequisite::Browser => {
                (crts_harness::browser::installed().is_ok(), "chromium (Debian package chromium; or set CRTS_CHROMIUM)")
            }
            Prerequisite::Boto3 => (
                succeeds("python3", &["-c", "import boto3, yaml"]),
                "boto3 and PyYAML for python3 (pip install boto3 pyyaml)",
            ),
            Prerequisite::AwsCli => (succeeds("aws", &["--version"]), "the AWS CLI `aws` (pip install awscli)"),
            Prerequisite::AwsCliV2 => (
                Command::new(aws_cli_v2())
                    .arg("--version")
                    .output()
                    .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).starts_with("aws-cli/2")),
                "the AWS CLI v2 (Debian package awscli, /usr/bin/aws; or set CRTS_AWS_CLI_V2)",
            ),
            Prerequisite::Curl => (succeeds("curl", &["--version"]), "curl (Debian package curl)"),
            Prerequisite::Compose => (
                succeeds("docker", &["compose", "version"]) || succeeds("docker-compose", &["version"]),
                "docker compose or docker-compose (Debian package docker-compose)",
            ),
        };
        (!present).then(|| format!("missing prerequisite: {what}; scripts/test installs it and runs the tests"))
    }
}

/// Where the AWS CLI v2 is: `CRTS_AWS_CLI_V2`, else Debian's /usr/bin/aws.
pub fn aws_cli_v2() -> std::path::PathBuf {
    std::env::var_os("CRTS_AWS_CLI_V2").map_or_else(|| "/usr/bin/aws".into(), Into::into)
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Fails the calling test, one line per missing prerequisite, before it does anything else.
pub fn require(needs: &[Prerequisite]) {
    let missing: Vec<String> = needs.iter().filter_map(|need| need.missing()).collect();
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// Whether a Docker engine answers.
pub fn docker_engine() -> bool {
    Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A test that needs a Docker engine, when none answers: under CI, or with `CRTS_REQUIRE_DOCKER=1` (which
/// `scripts/test` sets wherever an engine answered when it started), that is a failure; elsewhere the test is
/// skipped, saying so loudly on standard error (it shows as passed: `cargo test` has no skipped state).
pub fn docker_missing(what: &str) {
    let required =
        ["CI", "CRTS_REQUIRE_DOCKER"].iter().any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()));
    assert!(!required, "no Docker engine answers, and this run requires one (CI or CRTS_REQUIRE_DOCKER): {what}");
    eprintln!("SKIPPED, NOT RUN: no Docker engine answers ({what}); set CRTS_REQUIRE_DOCKER=1 to make this a failure");
}
