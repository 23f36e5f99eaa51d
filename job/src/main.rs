//! The CRTS job that the fixture image runs as `/crts/run <suite> <target>` (AWS Batch substitutes the job's
//! parameters into the job definition's command `/crts/run Ref::suite Ref::target`).
//!
//! It stands in for the real CRTS test run: it names what it runs and exits 0 for a known suite, 2 when an
//! argument is missing, 3 for an unknown suite. `CRTS_DURATION_SECONDS` makes a suite take that long (a run that
//! is still going when a test looks at it, stops it, or times it out).
//!
//! This file must stay dependency-free: `harness/build.rs` compiles it alone with `rustc`, statically linked, so
//! that the image needs nothing from the machine it is built on.

use std::process::ExitCode;

const SUITES: &[&str] = &["smoke", "regression", "full"];

/// What a run of the job prints and how it ends.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    stdout: Vec<String>,
    stderr: Vec<String>,
    code: u8,
}

fn run(args: &[String]) -> Outcome {
    let (Some(suite), Some(target)) = (args.first(), args.get(1)) else {
        return Outcome { stdout: vec![], stderr: vec!["usage: /crts/run SUITE TARGET".to_owned()], code: 2 };
    };
    if !SUITES.contains(&suite.as_str()) {
        return Outcome {
            stdout: vec![],
            stderr: vec![format!("crts: unknown suite '{suite}' ({})", SUITES.join(", "))],
            code: 3,
        };
    }
    Outcome {
        stdout: vec![
            format!("crts: running the {suite} suite against {target}"),
            format!("crts: {suite} suite passed"),
        ],
        stderr: vec![],
        code: 0,
    }
}

/// How long the suite takes: `CRTS_DURATION_SECONDS` (whole or fractional seconds), else no time at all.
fn duration(value: Option<&str>) -> Result<std::time::Duration, String> {
    match value {
        None | Some("") => Ok(std::time::Duration::ZERO),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 86_400.0)
            .map(std::time::Duration::from_secs_f64)
            .ok_or_else(|| format!("crts: CRTS_DURATION_SECONDS={text} is not a number of seconds from 0 to 86400")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = run(&args);
    let takes = match duration(std::env::var("CRTS_DURATION_SECONDS").ok().as_deref()) {
        Ok(takes) => takes,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    if let Some(first) = outcome.stdout.first() {
        println!("{first}");
    }
    std::thread::sleep(takes);
    for line in outcome.stdout.iter().skip(1) {
        println!("{line}");
    }
    for line in &outcome.stderr {
        eprintln!("{line}");
    }
    ExitCode::from(outcome.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_known_suite_runs_and_passes() {
        let outcome = run(&args(&["smoke", "staging"]));
        assert_eq!(outcome.code, 0);
        assert_eq!(outcome.stdout, ["crts: running the smoke suite against staging", "crts: smoke suite passed"]);
    }

    #[test]
    fn the_duration_is_read_in_seconds_and_refused_when_it_is_not_one() {
        assert_eq!(duration(None), Ok(std::time::Duration::ZERO));
        assert_eq!(duration(Some("1.5")), Ok(std::time::Duration::from_millis(1500)));
        for bad in ["x", "-1", "NaN", "100000"] {
            assert!(duration(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_argument_is_exit_code_2_and_an_unknown_suite_3() {
        assert_eq!(run(&args(&["smoke"])).code, 2);
        assert_eq!(run(&[]).code, 2);
        let unknown = run(&args(&["nightly", "staging"]));
        assert_eq!(unknown.code, 3);
        assert_eq!(unknown.stderr, ["crts: unknown suite 'nightly' (smoke, regression, full)"]);
    }
}
