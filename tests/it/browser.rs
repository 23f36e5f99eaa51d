//! The browser check where no browser is installed: reported as skipped with the reason, never as passed, and
//! the run (every other check passing) still exits 0; where the browser does not start, a failure saying why; and
//! a Chromium that never outlives the run that started it, however the run ends.

use std::process::Command;

use crate::prerequisites::{Prerequisite, require};
use crate::support::{children_of, harness_binary, repo_root, running};

#[test]
fn without_a_browser_the_swagger_browser_check_is_skipped_not_passed() {
    let report_dir = tempfile::tempdir().expect("temporary directory");
    let out = Command::new(harness_binary())
        .args(["run", "--format", "json", "--report-dir"])
        .arg(report_dir.path())
        .arg(repo_root().join("scenarios/crts.yaml"))
        .env("CRTS_CHROMIUM", "/nonexistent/chromium")
        .output()
        .expect("run the harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    let browser = report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == "swagger_browser"))
        .expect("the swagger_browser check is reported");
    assert_eq!(browser["outcome"]["status"], "skipped", "{browser}");
    let reason = browser["outcome"]["reason"].as_str().unwrap_or_default();
    assert_eq!(reason, "no browser: CRTS_CHROMIUM=/nonexistent/chromium does not exist");
    let text = std::fs::read_to_string(report_dir.path().join("report.txt")).expect("report.txt written");
    assert!(text.contains("5/6 checks passed, 1 skipped"), "{text}");
    let junit = std::fs::read_to_string(report_dir.path().join("report.xml")).expect("report.xml written");
    assert!(junit.contains("<skipped"), "{junit}");
}

/// A browser that is installed but does not start (here, one that says why and exits) fails the check, saying
/// what Chromium said; it is not skipped.
#[test]
fn a_browser_that_does_not_start_fails_the_check_with_what_it_said() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let chromium = dir.path().join("chromium");
    std::fs::write(&chromium, "#!/bin/sh\necho 'Missing X server or $DISPLAY' >&2\nexit 1\n").expect("a fake browser");
    let mut permissions = std::fs::metadata(&chromium).expect("its metadata").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&chromium, permissions).expect("make it executable");
    let out = Command::new(harness_binary())
        .args(["run", "--format", "json"])
        .arg(repo_root().join("scenarios/crts.yaml"))
        .env("CRTS_CHROMIUM", &chromium)
        .output()
        .expect("run the harness");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("a JSON report");
    let browser = report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == "swagger_browser"))
        .expect("the swagger_browser check is reported");
    assert_eq!(browser["outcome"]["status"], "failed", "{browser}");
    let observed = browser["observations"][0]["actual"].as_str().unwrap_or_default();
    assert!(observed.starts_with("Chromium did not start: it exited (exit status: 1): Missing X server"), "{browser}");
}

/// A run killed outright (SIGKILL: no cleanup of its own runs) takes its Chromium with it: Chromium reads its
/// commands on a pipe from the run, and ends when that pipe closes.
#[test]
fn chromium_does_not_outlive_a_killed_run() {
    require(&[Prerequisite::Browser]);
    let mut run = Command::new(harness_binary())
        .arg("run")
        .arg(repo_root().join("scenarios/crts.yaml"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start crts-harness run");
    // The run starts Chromium at once, while its steps run.
    let is_chromium = |pid: &u32| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim().starts_with("chromium"))
    };
    let started = std::time::Instant::now();
    let chromium = loop {
        let found: Vec<u32> = children_of(run.id()).into_iter().filter(is_chromium).collect();
        if !found.is_empty() {
            break found;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the run started no Chromium");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    // Its own processes (renderer, GPU, network service) are its children.
    let mut family: Vec<u32> = chromium.iter().flat_map(|&pid| children_of(pid)).chain(chromium.clone()).collect();
    run.kill().expect("SIGKILL the run");
    run.wait().expect("reap the run");
    for _ in 0..100 {
        family.retain(|&pid| running(pid));
        if family.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(family, Vec::<u32>::new(), "Chromium processes still running 5 s after the run was killed");
}
