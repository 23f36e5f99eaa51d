//! A CRTS developer's own code, as the runbook has it (a Lambda `.zip`, a docker package `.zip`, the Swagger code
//! `.zip`, their crts-swagger.json), checked with the example overlay and the command lines of the CI examples,
//! in the layout those examples describe: the developer's repository with crts-harness checked out beside it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crts_harness::checks::Outcome;
use crts_harness::run::{RunOptions, run};
use crts_harness::scenario::{CheckName, VarOverride};

use crate::prerequisites::{Prerequisite, require};
use crate::support::{harness_binary, repo_root};

/// A zip of `(name in the zip, contents)`.
fn zip(path: &Path, files: &[(String, Vec<u8>)]) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).expect("create the zip"));
    for (name, data) in files {
        writer.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).expect("start a zip entry");
        writer.write_all(data).expect("write a zip entry");
    }
    writer.finish().expect("finish the zip");
}

fn fixture(relative: &str) -> Vec<u8> {
    std::fs::read(repo_root().join(relative)).expect("fixture")
}

/// The developer's repository: crts-check.yaml (the example), their zips and definition, crts-harness beside.
fn developer_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::os::unix::fs::symlink(repo_root(), root.join("crts-harness")).expect("crts-harness beside the code");
    std::fs::copy(repo_root().join("examples/crts-check.yaml"), root.join("crts-check.yaml")).expect("overlay");
    zip(&root.join("lambda.zip"), &[("lambda_function.py".into(), fixture("fixtures/lambda/lambda_function.py"))]);
    // Packages zipped as "compress this folder" does: everything inside one top folder.
    zip(&root.join("docker-package.zip"), &[("crts-docker/Dockerfile".into(), fixture("fixtures/image/Dockerfile"))]);
    zip(
        &root.join("swagger.zip"),
        &[
            ("swagger/index.html".into(), fixture("fixtures/swagger/site/index.html")),
            ("swagger/swagger-initializer.js".into(), fixture("fixtures/swagger/site/swagger-initializer.js")),
        ],
    );
    std::fs::copy(repo_root().join("fixtures/swagger/crts-swagger.json"), root.join("crts-swagger.json"))
        .expect("the definition");
    dir
}

/// Runs a command line the way a CI runner does, in `dir`, with crts-harness on PATH.
fn shell(line: &str, dir: &Path) -> Output {
    let bin_dir = harness_binary().parent().expect("target/<profile>").to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .expect("PATH");
    Command::new("sh").args(["-c", line]).current_dir(dir).env("PATH", path).output().expect("run sh")
}

/// The `crts-harness` command lines of a CI example: GitHub's `run:` steps or GitLab's `script:` lines.
fn harness_lines(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join(file)).expect("CI example");
    let yaml: serde_json::Value = serde_norway::from_str(&text).expect("CI example is YAML");
    let mut lines = Vec::new();
    collect_commands(&yaml, &mut lines);
    lines.into_iter().filter(|l| l.starts_with("crts-harness ")).collect()
}

fn collect_commands(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("run", serde_json::Value::String(line)) => out.extend(line.lines().map(str::to_owned)),
                    ("script", serde_json::Value::Array(lines)) => {
                        out.extend(lines.iter().filter_map(|l| l.as_str().map(str::to_owned)))
                    }
                    _ => collect_commands(inner, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_commands(item, out)),
        _ => {}
    }
}

#[test]
fn the_ci_examples_gate_on_the_developers_own_zips() {
    let github = harness_lines("examples/ci/github-actions.yml");
    let gitlab = harness_lines("examples/ci/gitlab-ci.yml");
    assert_eq!(github, gitlab, "both CI examples run the same gate");
    assert!(github.iter().any(|l| l.contains("run ") && l.contains("--format junit --report-dir")), "{github:?}");

    let repo = developer_repository();
    for line in &github {
        let out = shell(line, repo.path());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "`{line}`:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let junit = std::fs::read_to_string(repo.path().join("crts-reports/report.xml")).expect("the JUnit report");
    assert!(junit.contains("<testsuites"), "{junit}");
    let text = std::fs::read_to_string(repo.path().join("crts-reports/report.txt")).expect("the text report");
    assert!(text.contains("scenario my-crts on embedded"), "{text}");
    let lambda_code = repo.path().join("lambda.zip").canonicalize().expect("path");
    assert!(
        text.contains(&format!("lambda_code         = {}", lambda_code.display())),
        "./ is the overlay's folder:\n{text}"
    );
    assert!(
        text.contains("crts-job: the CRTS job binary"),
        "the docker package's Dockerfile got the job binary:\n{text}"
    );

    // The gate closes: the same command line with the developer's Lambda broken fails the job.
    zip(
        &repo.path().join("lambda.zip"),
        &[(
            "lambda_function.py".into(),
            b"def lambda_handler(event, context):\n    raise RuntimeError('broken')\n".to_vec(),
        )],
    );
    let gate = github.iter().find(|l| l.contains("--format junit")).expect("the gate's line");
    let out = shell(gate, repo.path());
    assert_eq!(out.status.code(), Some(1), "a failing check fails the job:\n{}", String::from_utf8_lossy(&out.stdout));
}

async fn run_with_lambda(code: &Path) -> crts_harness::report::Report {
    let options = RunOptions {
        scenario: repo_root().join("scenarios/crts.yaml"),
        variables: vec![VarOverride { name: "lambda_code".into(), value: code.display().to_string() }],
        ..Default::default()
    };
    run(&options).await.expect("valid scenario")
}

fn check_outcome(report: &crts_harness::report::Report, name: CheckName) -> Outcome {
    report.checks.iter().find(|c| c.name == name).map(|c| c.outcome.clone()).expect("check reported")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_developers_lambda_zip_passes_job_trigger_when_good_and_fails_it_when_broken() {
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("good.zip");
    zip(&good, &[("lambda_function.py".into(), fixture("fixtures/lambda/lambda_function.py"))]);
    let report = run_with_lambda(&good).await;
    let text = crts_harness::report::to_text(&report);
    assert_eq!(check_outcome(&report, CheckName::JobTrigger), Outcome::Passed, "{text}");
    assert!(
        text.contains(&format!("* lambda_code         = {}", good.display())),
        "--var shows in the header:\n{text}"
    );

    // Submits nothing: answers 200 without calling Batch.
    let broken = dir.path().join("broken.zip");
    let handler = "import json\n\ndef lambda_handler(event, context):\n    return {'statusCode': 200, 'body': json.dumps({'message': 'no job'})}\n";
    zip(&broken, &[("lambda_function.py".into(), handler.as_bytes().to_vec())]);
    let report = run_with_lambda(&broken).await;
    let text = crts_harness::report::to_text(&report);
    assert_eq!(check_outcome(&report, CheckName::JobTrigger), Outcome::Failed, "{text}");
    assert!(!report.passed());
}

fn harness(args: &[&str], dir: &Path) -> Output {
    Command::new(harness_binary()).args(args).current_dir(dir).output().expect("run crts-harness")
}

#[test]
fn a_zip_without_the_handlers_module_is_refused_naming_the_zip_and_the_handler() {
    let dir = tempfile::tempdir().expect("temp dir");
    zip(&dir.path().join("lambda.zip"), &[("handler.py".into(), b"def main(e, c): pass\n".to_vec())]);
    let scenario = repo_root().join("scenarios/crts.yaml");
    for command in ["validate", "run"] {
        let out =
            harness(&[command, scenario.to_str().expect("utf-8"), "--var", "lambda_code=./lambda.zip"], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let zip_path: PathBuf = dir.path().join("lambda.zip");
        assert!(
            stderr.contains(&format!(
                "step `lambda.function`: with.code: {}: no `lambda_function.py` for the handler \
                 `lambda_function.lambda_handler` (it holds: handler.py) (${{lambda_code}} = {}, set with --var)",
                zip_path.display(),
                zip_path.display()
            )),
            "{stderr}"
        );
    }
}

#[test]
fn validate_names_unknown_variables_and_lists_the_known_ones() {
    let out = harness(&["validate", "scenarios/crts.yaml", "--var", "lamda_code=./x.zip"], &repo_root());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("scenarios/crts.yaml: --var lamda_code: the scenario has no such variable (known: lambda_code, image_context, swagger_ui, swagger_definition, repository,"),
        "{stderr}"
    );
    let out = harness(&["validate", "scenarios/crts.yaml", "--var", "region=eu-west-1"], &repo_root());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--var region: set by the target, not by the scenario"));
    let out = harness(&["validate", "--var", "stage=prod"], &repo_root());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains("  stage = prod (--var)"), "{stdout}");
}

/// The browser sees the developer's Swagger code when it ships Swagger UI itself (no PyPI bundle is added).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_code_that_ships_swagger_ui_is_uploaded_as_it_is() {
    require(&[Prerequisite::Browser]);
    let dir = tempfile::tempdir().expect("temp dir");
    // The developer's Swagger code: our page plus Swagger UI's files, as the first run cached them.
    let first =
        crts_harness::run::run(&RunOptions { scenario: repo_root().join("scenarios/crts.yaml"), ..Default::default() })
            .await
            .expect("valid scenario");
    assert!(first.passed(), "{}", crts_harness::report::to_text(&first));
    let ui = crts_harness::swagger_ui::obtain(&reqwest::Client::new()).await.expect("Swagger UI is cached");
    let mut files: Vec<(String, Vec<u8>)> = ui.files.into_iter().map(|(n, d)| (format!("site/{n}"), d)).collect();
    files.push(("site/index.html".into(), fixture("fixtures/swagger/site/index.html")));
    files.push(("site/swagger-initializer.js".into(), fixture("fixtures/swagger/site/swagger-initializer.js")));
    let code = dir.path().join("swagger.zip");
    zip(&code, &files);
    let options = RunOptions {
        scenario: repo_root().join("scenarios/crts.yaml"),
        variables: vec![VarOverride { name: "swagger_ui".into(), value: code.display().to_string() }],
        ..Default::default()
    };
    let report = run(&options).await.expect("valid scenario");
    let text = crts_harness::report::to_text(&report);
    assert!(report.passed(), "{text}");
    assert!(text.contains("swagger_ui_bundle=true"), "{text}");
    assert!(!text.contains("added from PyPI"), "the code's own Swagger UI is uploaded as it is: {text}");
    assert_eq!(check_outcome(&report, CheckName::SwaggerBrowser), Outcome::Passed, "{text}");
}
