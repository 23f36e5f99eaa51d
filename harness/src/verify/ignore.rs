//! The ignore file (`--ignore FILE`, as driftctl's `.driftignore`): one pattern per line over `STEP_ID.PATH`, e.g.
//! `batch.job-definition-ecr-image.vcpu` or `apigateway.*.cors*`; `*` matches any characters (dots too), `?` one;
//! `#` starts a comment. A pattern covers what is below it: `s3.cors` accepts every difference of that step, and
//! the step being missing. Accepted differences stay in the report, marked with the line that accepted them.

use std::path::{Path, PathBuf};

/// The rules of one ignore file.
#[derive(Debug, Clone, Default)]
pub struct IgnoreRules {
    file: PathBuf,
    rules: Vec<(usize, String)>,
}

impl IgnoreRules {
    /// Reads the file; every pattern must be able to match one of `step_ids` (a typo is an error, not a no-op).
    pub fn load(path: &Path, step_ids: &[&str]) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("--ignore {}: {e}", path.display()))?;
        let mut rules = Vec::new();
        for (number, line) in (1..).zip(text.lines()) {
            let pattern = line.split('#').next().unwrap_or_default().trim();
            if pattern.is_empty() {
                continue;
            }
            if pattern.contains(char::is_whitespace) {
                return Err(format!("{}:{number}: `{pattern}` has spaces: write one pattern per line", path.display()));
            }
            let reaches_a_step =
                step_ids.iter().any(|id| matches(pattern, id) || matches_prefix(pattern, &format!("{id}.")));
            if !reaches_a_step {
                return Err(format!(
                    "{}:{number}: `{pattern}` matches no step of the scenario (patterns are STEP_ID.PATH; step ids: {})",
                    path.display(),
                    step_ids.join(", ")
                ));
            }
            rules.push((number, pattern.to_owned()));
        }
        Ok(Self { file: path.to_path_buf(), rules })
    }

    /// The rule that accepts `step_id.path` (or the whole step, with no path), as `FILE:LINE: pattern`.
    pub fn accepting(&self, step_id: &str, path: Option<&str>) -> Option<String> {
        let key = match path {
            Some(path) => format!("{step_id}.{path}"),
            None => step_id.to_owned(),
        };
        self.rules
            .iter()
            .find(|(_, pattern)| covers(pattern, &key))
            .map(|(line, pattern)| format!("{}:{line}: {pattern}", self.file.display()))
    }
}

/// `pattern` matches `key` or something above it (`s3.cors` covers `s3.cors.rules`).
fn covers(pattern: &str, key: &str) -> bool {
    matches(pattern, key) || key.char_indices().filter(|(_, c)| *c == '.').any(|(at, _)| matches(pattern, &key[..at]))
}

/// The pattern's states alive after reading `text` (an NFA over pattern positions).
fn states_after(pattern: &[char], text: &str) -> Vec<bool> {
    let close = |states: &mut Vec<bool>| {
        for i in 0..pattern.len() {
            if states[i] && pattern[i] == '*' {
                states[i + 1] = true;
            }
        }
    };
    let mut states = vec![false; pattern.len() + 1];
    states[0] = true;
    close(&mut states);
    for c in text.chars() {
        let mut next = vec![false; pattern.len() + 1];
        for i in 0..pattern.len() {
            if !states[i] {
                continue;
            }
            match pattern[i] {
                '*' => next[i] = true,
                '?' => next[i + 1] = true,
                p if p == c => next[i + 1] = true,
                _ => {}
            }
        }
        close(&mut next);
        states = next;
    }
    states
}

fn matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    states_after(&pattern, text)[pattern.len()]
}

/// Whether `pattern` can match some text that starts with `prefix`.
fn matches_prefix(pattern: &str, prefix: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    states_after(&pattern, prefix).iter().any(|alive| *alive)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: &[&str] = &["batch.job-definition-ecr-image", "apigateway.enable-cors", "s3.cors"];

    fn rules(text: &str) -> Result<IgnoreRules, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ignore");
        std::fs::write(&path, text).expect("write");
        IgnoreRules::load(&path, IDS).map_err(|e| e.replace(&path.display().to_string(), "FILE"))
    }

    #[test]
    fn patterns_match_step_paths_and_cover_what_is_below_them() {
        let r = rules("# known deviations\nbatch.job-definition-ecr-image.vcpu\napigateway.*cors*  # the console's CORS\n\ns3.cors\n")
            .expect("valid");
        assert!(
            r.accepting("batch.job-definition-ecr-image", Some("vcpu"))
                .is_some_and(|l| l.ends_with(":2: batch.job-definition-ecr-image.vcpu"))
        );
        assert_eq!(r.accepting("batch.job-definition-ecr-image", Some("memory")), None);
        assert!(r.accepting("apigateway.enable-cors", Some("preflight_headers.Access-Control-Allow-Origin")).is_some());
        assert!(r.accepting("s3.cors", None).is_some(), "a step id covers the step being missing");
        assert!(r.accepting("s3.cors", Some("rules")).is_some());
        assert_eq!(r.accepting("batch.job-definition-ecr-image", None), None);
    }

    #[test]
    fn a_pattern_that_reaches_no_step_is_an_error_naming_the_line() {
        let err = rules("s3.cors\nbatch.job-defintion.vcpu\n").expect_err("typo");
        assert!(err.starts_with("FILE:2: `batch.job-defintion.vcpu` matches no step"), "{err}");
        assert!(rules("s3.cors rules").expect_err("spaces").starts_with("FILE:1:"));
        assert!(rules("*.vcpu\n").is_ok());
    }
}
