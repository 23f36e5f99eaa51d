//! The scenario loader (`crts-harness validate|run <file>`): a scenario file as a user writes it, YAML with
//! `extends`, variables, steps and settings. The input is the file, loaded from `scenarios/faults/` of a copy of
//! the repository's scenarios (so `extends: ../crts.yaml` reads the real runbook scenario) with the real
//! fixtures beside it; lines after `--next--` are `--var NAME=VALUE` overrides. Loading either gives a scenario
//! with steps or an error naming the file; it never panics.
#![no_main]
use std::path::PathBuf;
use std::sync::OnceLock;

use crts_harness::scenario::{VarOverride, Variables, load};
use libfuzzer_sys::fuzz_target;

const NEXT: &[u8] = b"\n--next--\n";

/// A folder laid out like the repository: `scenarios/crts.yaml`, `fixtures/` (a link), `scenarios/faults/`.
fn repository() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = std::env::temp_dir().join(format!("crts-fuzz-scenario-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("scenarios/faults")).expect("a temporary folder");
        std::fs::copy(repo.join("scenarios/crts.yaml"), dir.join("scenarios/crts.yaml")).expect("the runbook scenario");
        let _ =
            std::os::unix::fs::symlink(repo.join("fixtures").canonicalize().expect("fixtures"), dir.join("fixtures"));
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let (file, vars) = match data.windows(NEXT.len()).position(|w| w == NEXT) {
        Some(at) => (&data[..at], &data[at + NEXT.len()..]),
        None => (data, &data[data.len()..]),
    };
    let path = repository().join("scenarios/faults/fuzz.yaml");
    std::fs::write(&path, file).expect("the scenario file is written");
    let overrides: Vec<VarOverride> =
        String::from_utf8_lossy(vars).lines().filter_map(|line| line.parse().ok()).collect();
    let mut runtime = Variables::default();
    for (name, value) in [
        ("region", "us-east-1"),
        ("account_id", "000000000000"),
        ("ecr_registry", "000000000000.dkr.ecr.us-east-1.amazonaws.com"),
    ] {
        runtime.insert(name, value);
    }
    match load(&path, &runtime, &overrides) {
        Ok(scenario) => assert!(!scenario.steps.is_empty(), "a loaded scenario has steps"),
        // The error names a file (this one, or one it extends) and says what is wrong.
        Err(error) => assert!(
            !error.message.is_empty() && error.to_string().starts_with(&error.file.display().to_string()),
            "{error}"
        ),
    }
});
