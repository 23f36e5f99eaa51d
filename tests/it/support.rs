//! Shared helpers: a started emulator, SDK clients pointed at it, and the harness run on the embedded target.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use crts_emulator::{Config, Emulator};
use crts_harness::report::Report;
use crts_harness::run::{RunOptions, run};
use crts_harness::targets::TargetSpec;

use crate::prerequisites::{Prerequisite, require};

/// The repository root (fixtures and scenarios are relative to it).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn scenario(relative: &str) -> PathBuf {
    repo_root().join("scenarios").join(relative)
}

/// An emulator on a random loopback port.
pub async fn emulator() -> Emulator {
    Emulator::start(Config::default()).await.expect("the emulator binds a random loopback port")
}

/// An emulator whose Batch jobs are simulated even where a Docker engine answers: for stacks whose image is a
/// stand-in pushed through the registry API (no runnable layers), which no container engine could run (AWS would
/// fail such a job too).
pub async fn emulator_simulating_jobs() -> Emulator {
    let batch = crts_emulator::BatchConfig { containers: crts_emulator::JobRunner::Simulate, ..Default::default() };
    Emulator::start(Config { batch, ..Config::default() }).await.expect("the emulator binds a random loopback port")
}

/// SDK configuration for the emulator, with the account's own (administrator) keys.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    sdk_config_with_keys(endpoint, "test", "test", None).await
}

pub async fn sdk_config_with_keys(endpoint: &str, key: &str, secret: &str, token: Option<String>) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(key, secret, token, None, "tests"))
        .load()
        .await
}

/// Runs a scenario file on a fresh embedded emulator, with every check (a real browser included: the snapshots
/// record what it saw).
pub async fn run_embedded(path: &Path) -> Report {
    require(&[Prerequisite::Browser]);
    let options = RunOptions { scenario: path.to_path_buf(), target: TargetSpec::embedded(), ..Default::default() };
    run(&options).await.expect("the scenario is valid and the embedded target starts")
}

/// Writes the CRTS job binary the harness carries into `dir` as the executable `crts-job`, as the image step does.
pub fn write_job_binary(dir: &Path) {
    let job = crts_harness::image::job_binary().expect("the harness carries the job binary");
    let entry = crts_harness::package::Entry { path: "crts-job".into(), data: job.to_vec(), executable: true };
    crts_harness::package::write_entries(&[entry], dir).expect("write the job binary");
}

/// insta settings that keep snapshots in tests/snapshots.
pub fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(repo_root().join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings
}

/// The `crts-harness` binary, built once per test run with the same profile as the tests. (Integration tests
/// of another package get no `CARGO_BIN_EXE_*`, and `cargo test` does not build other packages' binaries.)
pub fn harness_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().expect("the test binary has a path");
            let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>").to_path_buf();
            let mut build = std::process::Command::new(env!("CARGO"));
            // With the tests in the same invocation, features resolve as for `cargo test --workspace`, so the SDK
            // crates the tests already built are reused rather than built again for the binary alone.
            build.args(["build", "--quiet", "--workspace", "--bins", "--tests"]).current_dir(repo_root());
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let status = build.status().expect("run cargo build for crts-harness");
            assert!(status.success(), "building crts-harness failed");
            let binary = profile_dir.join("crts-harness");
            assert!(binary.is_file(), "{} is missing after cargo build", binary.display());
            binary
        })
        .clone()
}

/// `crts-harness serve --port 0`, stopped (SIGKILL on drop is fine: it holds nothing on disk).
pub struct Served {
    child: Child,
    pub endpoint: String,
}

impl Served {
    /// The serve process's id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (`TERM`, `INT`) and waits at most `limit` for serve to exit: its exit status, or `None` if it
    /// was still running then (it is SIGKILLed when dropped).
    pub fn stop_with(&mut self, signal: &str, limit: std::time::Duration) -> Option<std::process::ExitStatus> {
        let sent = Command::new("kill").args([format!("-{signal}"), self.pid().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -{signal} {}", self.pid());
        let started = std::time::Instant::now();
        while started.elapsed() < limit {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// SIGKILLs serve (it cannot clean up) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn serve() -> Served {
    serve_with(&[])
}

/// `serve` with Batch jobs simulated: for scripts that push a stand-in image (see [`emulator_simulating_jobs`]).
pub fn serve_simulating_jobs() -> Served {
    serve_with(&[("CRTS_BATCH_CONTAINERS", "simulate")])
}

fn serve_with(env: &[(&str, &str)]) -> Served {
    let mut child = Command::new(harness_binary())
        .args(["serve", "--port", "0"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start crts-harness serve");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first_line = String::new();
    BufReader::new(stdout).read_line(&mut first_line).expect("serve prints its endpoint");
    let endpoint = first_line.trim().rsplit(' ').next().expect("`... listening on URL`").to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "unexpected serve banner: {first_line}");
    Served { child, endpoint }
}

/// The processes whose parent is `pid`, from /proc.
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(child) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else { continue };
        // `pid (comm) state ppid ...`: comm may hold spaces, so fields are counted after its closing parenthesis.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(pid) {
            children.push(child);
        }
    }
    children
}

/// Alive and not a zombie.
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next().map(str::to_owned)))
        .is_some_and(|state| state != "Z" && state != "X")
}
