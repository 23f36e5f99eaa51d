//! Comparing what a step reads back with what the runbook says, as CloudFormation's drift detection does:
//! property differences with a path, the expected and actual values, and a kind (ADD, REMOVE, NOT_EQUAL).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::steps::Observed;

/// What a step's observation must show, key by key; keys the runbook says nothing about are not listed.
pub type Expected = BTreeMap<String, Expect>;

/// One expectation on an observed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expect {
    /// Equal: lists compared as sets (order-insensitive), objects key by key.
    Is(Value),
    /// Each of these is in the list (other steps may add more).
    Includes(Vec<Value>),
    /// None of these is in the list.
    Excludes(Vec<Value>),
}

impl Expect {
    pub fn is(value: impl Serialize) -> Self {
        Self::Is(serde_json::to_value(value).unwrap_or(Value::Null))
    }

    pub fn includes<T: Serialize>(items: impl IntoIterator<Item = T>) -> Self {
        Self::Includes(items.into_iter().map(|i| serde_json::to_value(i).unwrap_or(Value::Null)).collect())
    }

    pub fn excludes<T: Serialize>(items: impl IntoIterator<Item = T>) -> Self {
        Self::Excludes(items.into_iter().map(|i| serde_json::to_value(i).unwrap_or(Value::Null)).collect())
    }
}

/// How the actual value differs from the expected one (CloudFormation's `DifferenceType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DiffKind {
    /// The target has something the runbook does not.
    Add,
    /// The target lacks something the runbook has.
    Remove,
    NotEqual,
}

/// One property that is not as the runbook says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    /// `environment.aws_jobdefinition`, `methods`, ...: the observed key, then object keys.
    pub path: String,
    /// `null`: the runbook does not have it (ADD).
    pub expected: Value,
    /// `null`: the target does not have it (REMOVE).
    pub actual: Value,
    pub kind: DiffKind,
    /// The ignore-file line that accepts this difference (`FILE:LINE: pattern`), when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_by: Option<String>,
}

impl Difference {
    fn new(path: &str, expected: Value, actual: Value, kind: DiffKind) -> Self {
        Self { path: path.to_owned(), expected, actual, kind, ignored_by: None }
    }
}

/// Every way `observed` differs from `expected`, in key order.
pub fn diff(expected: &Expected, observed: &Observed) -> Vec<Difference> {
    let mut out = Vec::new();
    for (key, expect) in expected {
        let actual = observed.get(key).unwrap_or(&Value::Null);
        match expect {
            Expect::Is(value) => compare(key, value, actual, &mut out),
            Expect::Includes(items) => {
                let present = as_list(actual);
                for item in items.iter().filter(|i| !present.contains(i)) {
                    out.push(Difference::new(key, item.clone(), Value::Null, DiffKind::Remove));
                }
            }
            Expect::Excludes(items) => {
                let present = as_list(actual);
                for item in items.iter().filter(|i| present.contains(i)) {
                    out.push(Difference::new(key, Value::Null, item.clone(), DiffKind::Add));
                }
            }
        }
    }
    out
}

/// What a step whose resource is missing lacks: every value the runbook states, as REMOVE with `null` actual.
pub fn absent(expected: &Expected) -> Vec<Difference> {
    let mut out = Vec::new();
    for (key, expect) in expected {
        match expect {
            Expect::Is(value) => out.push(Difference::new(key, value.clone(), Value::Null, DiffKind::Remove)),
            Expect::Includes(items) => {
                out.extend(items.iter().map(|item| Difference::new(key, item.clone(), Value::Null, DiffKind::Remove)));
            }
            // Nothing there holds nothing it must not.
            Expect::Excludes(_) => {}
        }
    }
    out
}

fn as_list(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

fn compare(path: &str, expected: &Value, actual: &Value, out: &mut Vec<Difference>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, value) in e {
                match a.get(key) {
                    Some(actual) => compare(&format!("{path}.{key}"), value, actual, out),
                    None => out.push(Difference::new(
                        &format!("{path}.{key}"),
                        value.clone(),
                        Value::Null,
                        DiffKind::Remove,
                    )),
                }
            }
            for (key, value) in a.iter().filter(|(k, _)| !e.contains_key(*k)) {
                out.push(Difference::new(&format!("{path}.{key}"), Value::Null, value.clone(), DiffKind::Add));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            let mut unmatched: Vec<&Value> = a.iter().collect();
            let mut removed = Vec::new();
            for item in e {
                match unmatched.iter().position(|candidate| *candidate == item) {
                    Some(at) => {
                        unmatched.remove(at);
                    }
                    None => removed.push(item),
                }
            }
            for item in removed {
                out.push(Difference::new(path, item.clone(), Value::Null, DiffKind::Remove));
            }
            for item in unmatched {
                out.push(Difference::new(path, Value::Null, item.clone(), DiffKind::Add));
            }
        }
        (e, Value::Null) if !e.is_null() => out.push(Difference::new(path, e.clone(), Value::Null, DiffKind::Remove)),
        (Value::Null, a) if !a.is_null() => out.push(Difference::new(path, Value::Null, a.clone(), DiffKind::Add)),
        (e, a) if e != a => out.push(Difference::new(path, e.clone(), a.clone(), DiffKind::NotEqual)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn observed(pairs: &[(&str, Value)]) -> Observed {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect()
    }

    /// A missing resource lacks every value the runbook states (REMOVE, actual null), and holds nothing it must not.
    #[test]
    fn what_is_missing_lacks_each_stated_value() {
        let expected = Expected::from([
            ("index_document".to_owned(), Expect::is("index.html")),
            ("objects".to_owned(), Expect::includes(["index.html", "crts-swagger.json"])),
            ("public_access_blocked".to_owned(), Expect::excludes(["BlockPublicPolicy"])),
        ]);
        let found: Vec<(String, Value, Value, DiffKind)> =
            absent(&expected).into_iter().map(|d| (d.path, d.expected, d.actual, d.kind)).collect();
        assert_eq!(
            found,
            [
                ("index_document".to_owned(), json!("index.html"), Value::Null, DiffKind::Remove),
                ("objects".to_owned(), json!("index.html"), Value::Null, DiffKind::Remove),
                ("objects".to_owned(), json!("crts-swagger.json"), Value::Null, DiffKind::Remove),
            ]
        );
    }

    #[test]
    fn lists_are_sets_objects_recurse_and_unstated_keys_are_not_compared() {
        let expected = Expected::from([
            ("methods".to_owned(), Expect::is(["OPTIONS", "POST"])),
            ("environment".to_owned(), Expect::is(json!({ "aws_jobdefinition": "CrtsAwsJD:2", "aws_jobqueue": "q" }))),
        ]);
        let same = observed(&[
            ("methods", json!(["POST", "OPTIONS"])),
            ("environment", json!({ "aws_jobqueue": "q", "aws_jobdefinition": "CrtsAwsJD:2" })),
            ("digest", json!("sha256:whatever")),
        ]);
        assert_eq!(diff(&expected, &same), Vec::new());

        let drifted = observed(&[
            ("methods", json!(["ANY", "POST"])),
            ("environment", json!({ "aws_jobqueue": "q", "aws_jobdefinition": "CrtsAwsJD:1", "DEBUG": "1" })),
        ]);
        assert_eq!(
            diff(&expected, &drifted),
            vec![
                Difference::new(
                    "environment.aws_jobdefinition",
                    json!("CrtsAwsJD:2"),
                    json!("CrtsAwsJD:1"),
                    DiffKind::NotEqual
                ),
                Difference::new("environment.DEBUG", Value::Null, json!("1"), DiffKind::Add),
                Difference::new("methods", json!("OPTIONS"), Value::Null, DiffKind::Remove),
                Difference::new("methods", Value::Null, json!("ANY"), DiffKind::Add),
            ]
        );
    }

    #[test]
    fn includes_and_excludes_look_at_list_members_only() {
        let expected = Expected::from([
            ("methods".to_owned(), Expect::includes(["POST"])),
            ("gone".to_owned(), Expect::excludes(["ANY"])),
            ("flag".to_owned(), Expect::is(true)),
        ]);
        assert_eq!(
            diff(
                &expected,
                &observed(&[("methods", json!(["OPTIONS", "POST"])), ("gone", json!(["POST"])), ("flag", json!(true))])
            ),
            Vec::new()
        );
        assert_eq!(
            diff(&expected, &observed(&[("methods", json!(["OPTIONS"])), ("gone", json!(["ANY"]))])),
            vec![
                Difference::new("flag", json!(true), Value::Null, DiffKind::Remove),
                Difference::new("gone", Value::Null, json!("ANY"), DiffKind::Add),
                Difference::new("methods", json!("POST"), Value::Null, DiffKind::Remove),
            ]
        );
    }
}
