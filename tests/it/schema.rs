//! The scenario schema: the committed file is what `crts-harness schema` prints, every scenario in the repository
//! is valid against it and names it for editors, and it refuses what the loader refuses.

use std::path::{Path, PathBuf};

use crts_harness::scenario::schema::{SCHEMA_PATH, schema, schema_json};

use crate::support::repo_root;

fn scenario_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["scenarios", "scenarios/faults", "examples"] {
        for entry in std::fs::read_dir(repo_root().join(dir)).expect("folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn errors(validator: &jsonschema::Validator, yaml: &str) -> Vec<String> {
    let instance: serde_json::Value = serde_norway::from_str(yaml).expect("YAML");
    validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn the_committed_schema_is_what_crts_harness_schema_prints() {
    let committed = std::fs::read_to_string(repo_root().join(SCHEMA_PATH)).expect("the committed schema");
    assert!(
        committed == schema_json(),
        "{SCHEMA_PATH} is out of date: run `cargo run -p crts-harness -- schema > {SCHEMA_PATH}`"
    );
}

#[test]
fn every_scenario_in_the_repository_is_valid_against_the_schema_and_names_it() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema is a valid JSON Schema");
    let files = scenario_files();
    assert!(files.len() >= 12, "{files:?}");
    for file in files {
        let text = std::fs::read_to_string(&file).expect("scenario");
        assert_eq!(errors(&validator, &text), Vec::<String>::new(), "{}", file.display());
        let first = text.lines().next().unwrap_or_default();
        let named = first.strip_prefix("# yaml-language-server: $schema=").unwrap_or_else(|| {
            panic!("{}: the first line should name the schema for editors, not {first:?}", file.display())
        });
        // The example lives in the developer's repository, with crts-harness checked out beside it.
        let resolved = match named.strip_prefix("crts-harness/") {
            Some(in_harness) if file.starts_with(repo_root().join("examples")) => repo_root().join(in_harness),
            _ => file.parent().expect("folder").join(named),
        };
        assert!(Path::new(&resolved).is_file(), "{}: {named} does not resolve to the schema", file.display());
    }
}

#[test]
fn the_schema_refuses_unknown_actions_keys_and_checks_and_accepts_partial_settings_in_overlays() {
    let validator = jsonschema::validator_for(&schema()).expect("the schema is a valid JSON Schema");
    let broken = [
        "steps: [{ id: a, action: ecr.create-repositry, with: { name: crts } }]",
        "steps: [{ id: a, action: ecr.create-repository, with: { nam: crts } }]",
        "steps: [{ id: a, action: lambda.create-function, with: { name: f, runtime: python3.8, handler: h.h, role: r, code: x.py, timeout: soon } }]",
        "steps: [{ id: a, action: ecr.create-repository, with: { name: crts } }]\nchecks: [cors, nope]",
        "extends: crts.yaml\nsettings: { api: { nam: a } }",
        "steps: []\nunknown_key: 1",
    ];
    for yaml in broken {
        assert!(!errors(&validator, yaml).is_empty(), "the schema accepts: {yaml}");
    }
    // The loader merges an overlay's settings into the extended scenario's, so part of them is valid.
    let overlay = "extends: crts.yaml\nsettings: { api: { stage: prod } }";
    assert_eq!(errors(&validator, overlay), Vec::<String>::new());
}
