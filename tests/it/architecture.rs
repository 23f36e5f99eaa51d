//! The architecture's invariants (README: "Invariants"), kept by tests rather than by convention.

use std::path::{Path, PathBuf};

use crate::support::repo_root;

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).map_while(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The files under `dir` (relative to the repository) whose text contains `needle`.
fn files_containing(dir: &str, needle: &str) -> Vec<String> {
    let root = repo_root();
    rust_files(&root.join(dir))
        .into_iter()
        .filter(|path| std::fs::read_to_string(path).is_ok_and(|text| text.contains(needle)))
        .map(|path| path.strip_prefix(&root).unwrap_or(&path).display().to_string())
        .collect()
}

#[test]
fn the_emulator_never_depends_on_the_aws_sdk() {
    let manifest = std::fs::read_to_string(repo_root().join("emulator/Cargo.toml")).expect("emulator/Cargo.toml");
    let dependencies = manifest.split("[dev-dependencies]").next().unwrap_or_default();
    assert!(!dependencies.contains("aws-sdk-"), "the emulator must not depend on an AWS SDK: {dependencies}");
    assert!(
        files_containing("emulator/src", "aws_sdk_").is_empty(),
        "{:?}",
        files_containing("emulator/src", "aws_sdk_")
    );
}

/// A scenario composes steps and checks (it parses its entries into their types), so steps and checks never
/// reach back into `scenario/`: the dependency goes one way.
#[test]
fn steps_and_checks_do_not_depend_on_scenarios() {
    let mut reaching = files_containing("harness/src/checks", "crate::scenario");
    reaching.extend(files_containing("harness/src/steps", "crate::scenario"));
    assert_eq!(reaching, Vec::<String>::new());
}

/// The harness reaches every target, the embedded one included, through the AWS SDK and HTTP only: of the
/// emulator it uses what starts and stops it (its configuration, `Emulator`, the default account id), never its
/// services' state.
#[test]
fn the_harness_uses_the_emulator_only_to_start_and_stop_it() {
    const ALLOWED: &[&str] =
        &["Emulator", "Config", "LambdaConfig", "BatchConfig", "JobRunner", "identity::DEFAULT_ACCOUNT"];
    let root = repo_root();
    let mut used = Vec::new();
    for path in rust_files(&root.join("harness/src")) {
        let text = std::fs::read_to_string(&path).expect("source");
        for (at, _) in text.match_indices("crts_emulator::") {
            let item: String =
                text[at + 15..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            if !ALLOWED.iter().any(|allowed| item == *allowed || item.starts_with(&format!("{allowed}::"))) {
                used.push(format!("{}: crts_emulator::{item}", path.strip_prefix(&root).unwrap_or(&path).display()));
            }
        }
        assert!(!text.contains("emulator.state()"), "{}: reads the emulator's state", path.display());
    }
    assert!(used.is_empty(), "the harness reaches into the emulator: {used:#?}");
}

/// Services reach each other through small interfaces (`services::Authorize`, `Images`, `TaggedResources`,
/// `lambda::Env`), never the server's whole state: no service file names `crate::server` or `AppState`.
#[test]
fn services_never_reach_the_servers_state() {
    let mut reaching = files_containing("emulator/src/services", "crate::server");
    reaching.extend(files_containing("emulator/src/services", "AppState"));
    assert_eq!(reaching, Vec::<String>::new(), "take a narrow interface (emulator/src/services/mod.rs)");
}

/// Request documents are parsed only in `protocol/` (README: "Control-plane bodies are decoded and encoded only in
/// `emulator/src/protocol/`"): no service reads XML itself, and there is one error type (no service-owned error
/// type such as S3's former `S3Error`) that `protocol/` writes in each protocol's shape.
#[test]
fn services_parse_no_xml_and_own_no_error_type() {
    assert_eq!(files_containing("emulator/src/services", "roxmltree"), Vec::<String>::new());
    let mut own_errors = files_containing("emulator/src/services", "Error {\n    pub status");
    own_errors.extend(files_containing("emulator/src/services", "S3Error"));
    assert_eq!(own_errors, Vec::<String>::new(), "errors are protocol::AwsError");
}
