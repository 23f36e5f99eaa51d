//! Broken scenario files are refused before anything is applied, with the file, line, step and a hint.

use std::process::Command;

use rstest::rstest;

use crate::support::{harness_binary, repo_root};

const VALID_STEP: &str = "  - id: lambda.execution-role\n    action: iam.create-role\n    with:\n      name: r\n      trust_policy: fixtures/policies/lambda-trust.json\n";

/// Writes `yaml` as `<tmp>/scenarios/broken.yaml`, with `<tmp>/fixtures` linked to the repository's fixtures.
fn write_scenario(yaml: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).expect("scenarios dir");
    std::os::unix::fs::symlink(repo_root().join("fixtures"), dir.path().join("fixtures")).expect("fixtures link");
    let path = scenarios.join("broken.yaml");
    std::fs::write(&path, yaml).expect("write scenario");
    (dir, path)
}

#[rstest]
#[case::yaml_syntax("steps:\n  - id: a\n    action: [unclosed\n", "broken.yaml:3: ")]
#[case::unknown_top_level_key("stepz: []\n", "unknown field `stepz`")]
#[case::unknown_action(&format!("steps:\n{VALID_STEP}  - id: x.y\n    action: iam.create-rol\n"), "broken.yaml:7: step `x.y`: unknown action `iam.create-rol` (did you mean `iam.create-role`?")]
#[case::missing_setting(
    "steps:\n  - id: lambda.execution-role\n    action: iam.create-role\n    with: { name: r }\n",
    "broken.yaml:2: step `lambda.execution-role`: with: missing field `trust_policy`"
)]
#[case::misspelled_setting(
    "steps:\n  - id: lambda.execution-role\n    action: iam.create-role\n    with: { name: r, trust_polcy: x }\n",
    "with.trust_polcy: unknown field `trust_polcy`"
)]
#[case::missing_fixture(
    "steps:\n  - id: lambda.execution-role\n    action: iam.create-role\n    with: { name: r, trust_policy: fixtures/nope.json }\n",
    "file `fixtures/nope.json` not found"
)]
#[case::unknown_variable(
    "steps:\n  - id: lambda.execution-role\n    action: iam.create-role\n    with: { name: \"${nope}\", trust_policy: x }\n",
    "unknown variable `${nope}`"
)]
#[case::duplicate_id(&format!("steps:\n{VALID_STEP}{VALID_STEP}"), "broken.yaml:2: step `lambda.execution-role`: duplicate step id")]
#[case::wrong_type(
    "steps:\n  - id: batch.job-queue\n    action: batch.create-job-queue\n    with: { name: q, priority: high, compute_environments: [] }\n",
    "with.priority: invalid type: string \"high\", expected i32"
)]
#[case::check_without_settings(&format!("steps:\n{VALID_STEP}checks: [cors]\n"), "the `cors` check needs `settings.api`")]
#[case::unknown_check(&format!("steps:\n{VALID_STEP}checks: [corz]\n"), "unknown variant `corz`")]
#[case::extends_missing_step(&format!("extends: {}/scenarios/crts.yaml\nremove_steps: [apigateway.nope]\n", repo_root().display()), "broken.yaml:2: remove_steps: no step `apigateway.nope`")]
#[case::no_steps("name: empty\n", "missing `steps`")]
fn invalid_scenarios_name_the_file_line_and_step(#[case] yaml: &str, #[case] expected: &str) {
    let (_dir, path) = write_scenario(yaml);
    let error = crts_harness::run::validate(&path, &[]).expect_err("the scenario is invalid").to_string();
    assert!(error.contains(expected), "error `{error}` should contain `{expected}`");
    assert!(error.contains("broken.yaml"), "error `{error}` names the file");
}

#[test]
fn every_shipped_scenario_is_valid() {
    let mut files = vec![repo_root().join("scenarios/crts.yaml")];
    for entry in std::fs::read_dir(repo_root().join("scenarios/faults")).expect("faults dir") {
        files.push(entry.expect("dir entry").path());
    }
    for file in files {
        crts_harness::run::validate(&file, &[]).unwrap_or_else(|e| panic!("{e}"));
    }
}

/// Exit code 2 and nothing applied: the CLI refuses an invalid file and an unreachable target.
#[test]
fn the_cli_exits_2_on_invalid_input_and_unreachable_targets() {
    let (_dir, path) = write_scenario("steps:\n  - id: a\n    action: nope\n");
    let out = Command::new(harness_binary()).arg("run").arg(&path).output().expect("run the harness");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.yaml:2: step `a`: unknown action `nope`"), "{stderr}");

    // Port 9 (discard) on loopback: nothing listens there.
    let out = Command::new(harness_binary())
        .args(["run", "--target", "endpoint=http://127.0.0.1:9"])
        .arg(repo_root().join("scenarios/crts.yaml"))
        .output()
        .expect("run the harness");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is unreachable"));

    let out = Command::new(harness_binary()).args(["run", "--target", "localhost"]).output().expect("run the harness");
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown target");
}
