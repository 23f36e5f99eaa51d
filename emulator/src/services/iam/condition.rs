//! A policy statement's `Condition` block and the request context it is evaluated against, shared by identity
//! policies, trust policies (AssumeRole), S3 bucket policies and Lambda resource policies.
//!
//! Semantics follow the IAM User Guide: "IAM JSON policy elements: Condition operators"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html>),
//! "Conditions with multiple context keys or values"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-logic-multiple-context-keys-or-values.html>)
//! and "Set operators for multivalued context keys"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html>):
//! - operators in a block, and keys under one operator, are AND-ed; a key's list of values is OR-ed (NOR-ed for a
//!   negated operator);
//! - a key absent from the request context makes the condition false, except for negated operators
//!   (`StringNotEquals`, `ArnNotLike`, ...), which are then true, `...IfExists` (true when absent), `Null`, and
//!   `ForAllValues:` (true when the key is absent or has no values);
//! - condition key names are case-insensitive; values are compared as each operator says.
//!
//! Deliberate deviations: `IpAddress`, `NotIpAddress` and `BinaryEquals` are accepted but never hold (the emulator
//! does not see the client's address, and no key it supplies is binary), so a statement using them neither allows
//! nor denies. Policy variables (`${aws:username}`, `${aws:PrincipalTag/team}`, `${*}`, defaults as
//! `${key, 'default'}`) are substituted in String, ARN and Bool values; a variable whose key is absent (and has no
//! default) makes that one value match nothing.

use std::collections::BTreeMap;

use serde_json::Value;

/// The request context: condition keys (lower-cased) and their values. Most keys hold one value; multivalued keys
/// (the ones `ForAllValues:` / `ForAnyValue:` are for) hold several.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    keys: BTreeMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// The time keys every request carries: `aws:CurrentTime` (ISO 8601) and `aws:EpochTime` (seconds).
    pub fn now() -> Self {
        let now = chrono::Utc::now();
        Self::new()
            .with("aws:CurrentTime", now.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .with("aws:EpochTime", now.timestamp().to_string())
    }

    /// Sets a single-valued key.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets a single-valued key.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.keys.insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Sets a multivalued key.
    pub fn insert_values(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(key.to_ascii_lowercase(), values);
    }

    /// A key's values, if the request has the key.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }
}

/// A parsed `Condition` block.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Condition {
    clauses: Vec<Clause>,
}

/// One operator applied to one key: `"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "us-east-1"]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Clause {
    operator: Operator,
    set: Option<SetQualifier>,
    if_exists: bool,
    /// `StringNotEquals`, `ArnNotLike`, ...: true when no value matches.
    negated: bool,
    key: String,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Comparison),
    Date(Comparison),
    Bool,
    /// `ArnEquals` and `ArnLike` are the same test: each of the six `:`-separated parts matched with wildcards.
    Arn,
    Null,
    /// `IpAddress`, `NotIpAddress`, `BinaryEquals`: accepted, never hold (see the module docs).
    Unsupported,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equals,
    LessThan,
    LessThanEquals,
    GreaterThan,
    GreaterThanEquals,
}

/// Why a `Condition` block cannot be read: a malformed document (each policy kind words it its own way) or a date
/// value IAM's legacy parser refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionError {
    Syntax,
    Date,
}

impl Condition {
    /// Parses a statement's `Condition` value.
    pub fn parse(value: &Value) -> Result<Self, ConditionError> {
        let Value::Object(operators) = value else { return Err(ConditionError::Syntax) };
        let mut clauses = Vec::new();
        for (name, keys) in operators {
            let Value::Object(keys) = keys else { return Err(ConditionError::Syntax) };
            let Some((operator, set, if_exists, negated)) = parse_operator(name) else {
                // IAM accepts an unknown operator only with nothing under it.
                if keys.is_empty() {
                    continue;
                }
                return Err(ConditionError::Syntax);
            };
            for (key, values) in keys {
                let values = condition_values(values).ok_or(ConditionError::Syntax)?;
                if matches!(operator, Operator::Date(_))
                    && values.iter().any(|v| !v.contains("${") && parse_date(v).is_none())
                {
                    return Err(ConditionError::Date);
                }
                clauses.push(Clause { operator, set, if_exists, negated, key: key.clone(), values });
            }
        }
        Ok(Self { clauses })
    }

    /// Whether every clause holds for `context`.
    pub fn holds(&self, context: &Context) -> bool {
        self.clauses.iter().all(|clause| clause.holds(context))
    }

    /// The condition keys, lower-cased, with whether a positive operator (one that is false when the key is
    /// absent) tests them: Block Public Access calls a statement restricted only by such tests.
    pub fn keys(&self) -> impl Iterator<Item = (String, bool)> + '_ {
        self.clauses.iter().map(|c| {
            let positive =
                !c.negated && !c.if_exists && c.set != Some(SetQualifier::ForAllValues) && c.operator != Operator::Null;
            (c.key.to_ascii_lowercase(), positive)
        })
    }
}

/// `ForAnyValue:StringNotLikeIfExists` → (StringLike, ForAnyValue, if_exists, negated). `None` for a name IAM does
/// not know.
fn parse_operator(name: &str) -> Option<(Operator, Option<SetQualifier>, bool, bool)> {
    let (set, rest) = if let Some(rest) = name.strip_prefix("ForAllValues:") {
        (Some(SetQualifier::ForAllValues), rest)
    } else if let Some(rest) = name.strip_prefix("ForAnyValue:") {
        (Some(SetQualifier::ForAnyValue), rest)
    } else {
        (None, name)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(base) if base != "Null" => (base, true),
        _ => (rest, false),
    };
    use Comparison::*;
    let (operator, negated) = match base {
        "StringEquals" => (Operator::StringEquals, false),
        "StringNotEquals" => (Operator::StringEquals, true),
        "StringEqualsIgnoreCase" => (Operator::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Operator::StringEqualsIgnoreCase, true),
        "StringLike" => (Operator::StringLike, false),
        "StringNotLike" => (Operator::StringLike, true),
        "NumericEquals" => (Operator::Numeric(Equals), false),
        "NumericNotEquals" => (Operator::Numeric(Equals), true),
        "NumericLessThan" => (Operator::Numeric(LessThan), false),
        "NumericLessThanEquals" => (Operator::Numeric(LessThanEquals), false),
        "NumericGreaterThan" => (Operator::Numeric(GreaterThan), false),
        "NumericGreaterThanEquals" => (Operator::Numeric(GreaterThanEquals), false),
        "DateEquals" => (Operator::Date(Equals), false),
        "DateNotEquals" => (Operator::Date(Equals), true),
        "DateLessThan" => (Operator::Date(LessThan), false),
        "DateLessThanEquals" => (Operator::Date(LessThanEquals), false),
        "DateGreaterThan" => (Operator::Date(GreaterThan), false),
        "DateGreaterThanEquals" => (Operator::Date(GreaterThanEquals), false),
        "Bool" => (Operator::Bool, false),
        "ArnEquals" | "ArnLike" => (Operator::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Operator::Arn, true),
        "Null" => (Operator::Null, false),
        "IpAddress" | "BinaryEquals" => (Operator::Unsupported, false),
        "NotIpAddress" => (Operator::Unsupported, true),
        _ => return None,
    };
    Some((operator, set, if_exists, negated))
}

/// A key's policy values: a string, a number or a boolean, or a list of them (any of which may match).
fn condition_values(value: &Value) -> Option<Vec<String>> {
    let scalar = |value: &Value| match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|v| vec![v]),
    }
}

impl Clause {
    fn holds(&self, context: &Context) -> bool {
        let present = context.get(&self.key).filter(|values| !values.is_empty());
        if self.operator == Operator::Null {
            return self.values.iter().any(|v| match v.to_ascii_lowercase().as_str() {
                "true" => present.is_none(),
                "false" => present.is_some(),
                _ => false,
            });
        }
        if self.operator == Operator::Unsupported {
            return false;
        }
        let Some(request_values) = present else {
            return self.if_exists || self.set == Some(SetQualifier::ForAllValues) || self.negated;
        };
        let patterns: Vec<Vec<Piece>> = self.values.iter().filter_map(|v| self.substitute(v, context)).collect();
        let matches_one = |value: &String| patterns.iter().any(|pattern| self.operator.matches(value, pattern));
        let outcome = |value: &String| matches_one(value) != self.negated;
        match self.set {
            Some(SetQualifier::ForAllValues) => request_values.iter().all(outcome),
            Some(SetQualifier::ForAnyValue) => request_values.iter().any(outcome),
            // A single-valued key (or a multivalued one tested without a set operator): a positive operator
            // holds when some value matches, a negated one when none does.
            None => request_values.iter().any(matches_one) != self.negated,
        }
    }

    /// The policy value with its policy variables replaced, where this operator supports them; `None` when a
    /// variable names an absent key and has no default.
    fn substitute(&self, value: &str, context: &Context) -> Option<Vec<Piece>> {
        let wildcards = matches!(self.operator, Operator::StringLike | Operator::Arn);
        let variables = matches!(
            self.operator,
            Operator::StringEquals
                | Operator::StringEqualsIgnoreCase
                | Operator::StringLike
                | Operator::Arn
                | Operator::Bool
        );
        let literal = |text: &str, out: &mut Vec<Piece>| {
            out.extend(text.chars().map(|c| match c {
                '*' if wildcards => Piece::Any,
                '?' if wildcards => Piece::One,
                c => Piece::Char(c),
            }))
        };
        let mut pieces = Vec::new();
        let mut rest = value;
        while variables && let Some(start) = rest.find("${") {
            let Some(length) = rest[start..].find('}') else { break };
            literal(&rest[..start], &mut pieces);
            let inner = &rest[start + 2..start + length];
            let (name, default) = match inner.split_once(',') {
                Some((name, default)) => {
                    let default = default.trim();
                    let default = default.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).unwrap_or(default);
                    (name.trim(), Some(default))
                }
                None => (inner.trim(), None),
            };
            let replacement = match name {
                "*" | "?" | "$" => name.to_owned(),
                key => match context.get(key) {
                    Some([one]) => one.clone(),
                    _ => default?.to_owned(),
                },
            };
            pieces.extend(replacement.chars().map(Piece::Char));
            rest = &rest[start + length + 1..];
        }
        literal(rest, &mut pieces);
        Some(pieces)
    }
}

impl Operator {
    /// Whether one request value matches one (substituted) policy value, in the operator's positive sense.
    fn matches(self, value: &str, pattern: &[Piece]) -> bool {
        let text = || pattern.iter().map(Piece::char).collect::<String>();
        match self {
            Operator::StringEquals => value == text(),
            Operator::StringEqualsIgnoreCase => value.to_lowercase() == text().to_lowercase(),
            Operator::StringLike => pieces_match(pattern, value, false),
            Operator::Bool => {
                let policy = text().to_ascii_lowercase();
                matches!(policy.as_str(), "true" | "false") && value.eq_ignore_ascii_case(&policy)
            }
            Operator::Numeric(comparison) => match (value.trim().parse::<f64>(), text().trim().parse::<f64>()) {
                (Ok(request), Ok(policy)) => comparison.holds(request.partial_cmp(&policy)),
                _ => false,
            },
            Operator::Date(comparison) => match (parse_date(value), parse_date(&text())) {
                (Some(request), Some(policy)) => comparison.holds(Some(request.cmp(&policy))),
                _ => false,
            },
            Operator::Arn => arn_matches(pattern, value),
            Operator::Null | Operator::Unsupported => false,
        }
    }
}

impl Comparison {
    /// `request <op> policy`, given how request compares to policy.
    fn holds(self, ordering: Option<std::cmp::Ordering>) -> bool {
        use std::cmp::Ordering::*;
        match (self, ordering) {
            (_, None) => false,
            (Comparison::Equals, Some(o)) => o == Equal,
            (Comparison::LessThan, Some(o)) => o == Less,
            (Comparison::LessThanEquals, Some(o)) => o != Greater,
            (Comparison::GreaterThan, Some(o)) => o == Greater,
            (Comparison::GreaterThanEquals, Some(o)) => o != Less,
        }
    }
}

/// ARN matching as IAM does it: both split into six `:`-separated parts (the last one keeps its colons), each
/// part matched case-sensitively with `*` and `?`.
fn arn_matches(pattern: &[Piece], value: &str) -> bool {
    let mut pattern_parts: Vec<&[Piece]> = Vec::with_capacity(6);
    let mut rest = pattern;
    while pattern_parts.len() < 5 {
        let Some(colon) = rest.iter().position(|p| *p == Piece::Char(':')) else { break };
        pattern_parts.push(&rest[..colon]);
        rest = &rest[colon + 1..];
    }
    pattern_parts.push(rest);
    let value_parts: Vec<&str> = value.splitn(6, ':').collect();
    pattern_parts.len() == 6
        && value_parts.len() == 6
        && pattern_parts.iter().zip(&value_parts).all(|(pattern, value)| pieces_match(pattern, value, false))
}

/// A date value: ISO 8601 (`2026-12-31T23:59:59Z`, with an offset or fractional seconds, or a bare date) or epoch
/// seconds. Compared as milliseconds since the epoch.
fn parse_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse::<i64>().ok()?.checked_mul(1000);
    }
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(time.timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        let naive = text.strip_suffix('Z').unwrap_or(text);
        if let Ok(time) = chrono::NaiveDateTime::parse_from_str(naive, format) {
            return Some(time.and_utc().timestamp_millis());
        }
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// One element of a wildcard pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// `*`: any run of characters.
    Any,
    /// `?`: any one character.
    One,
    Char(char),
}

impl Piece {
    fn char(&self) -> char {
        match self {
            Piece::Any => '*',
            Piece::One => '?',
            Piece::Char(c) => *c,
        }
    }
}

/// Whether `value` matches the wildcard `pattern` (IAM's `*` and `?`), optionally ignoring ASCII case.
pub(crate) fn pieces_match(pattern: &[Piece], value: &str, case_insensitive: bool) -> bool {
    let same = |a: char, b: char| if case_insensitive { a.eq_ignore_ascii_case(&b) } else { a == b };
    let value: Vec<char> = value.chars().collect();
    let (mut p, mut v) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while v < value.len() {
        match pattern.get(p) {
            Some(Piece::Any) => {
                backtrack = Some((p, v));
                p += 1;
            }
            Some(Piece::One) => {
                p += 1;
                v += 1;
            }
            Some(Piece::Char(c)) if same(*c, value[v]) => {
                p += 1;
                v += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    p = star + 1;
                    v = matched + 1;
                    backtrack = Some((star, matched + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|piece| *piece == Piece::Any)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn holds(condition: Value, context: &Context) -> bool {
        Condition::parse(&condition).expect("a valid condition").holds(context)
    }

    #[test]
    fn operators_table() {
        let ctx = Context::new()
            .with("aws:RequestedRegion", "eu-west-1")
            .with("aws:SecureTransport", "false")
            .with("aws:SourceArn", "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/POST/crts")
            .with("aws:SourceAccount", "123456789012")
            .with("aws:PrincipalTag/Team", "CRTS")
            .with("s3:max-keys", "100")
            .with("aws:CurrentTime", "2026-11-25T10:00:00Z")
            .with("aws:EpochTime", "1795600800")
            .with("aws:userid", "AROAEXAMPLE:alice");
        let source = "aws:SourceArn";
        for (condition, expected) in [
            // Strings.
            (json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}), true),
            (json!({"StringEquals": {"aws:RequestedRegion": "EU-WEST-1"}}), false),
            (json!({"StringEquals": {"AWS:requestedregion": "eu-west-1"}}), true),
            (json!({"StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}), true),
            (json!({"StringEquals": {"aws:RequestedRegion": "eu-*"}}), false),
            (json!({"StringNotEquals": {"aws:RequestedRegion": "us-east-1"}}), true),
            (json!({"StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}), false),
            (json!({"StringEqualsIgnoreCase": {"aws:RequestedRegion": "EU-West-1"}}), true),
            (json!({"StringNotEqualsIgnoreCase": {"aws:RequestedRegion": "EU-West-1"}}), false),
            (json!({"StringLike": {"aws:RequestedRegion": "eu-*"}}), true),
            (json!({"StringLike": {"aws:RequestedRegion": "eu-west-?"}}), true),
            (json!({"StringLike": {"aws:RequestedRegion": "EU-*"}}), false),
            (json!({"StringNotLike": {"aws:RequestedRegion": "us-*"}}), true),
            (json!({"StringNotLike": {"aws:RequestedRegion": ["us-*", "eu-*"]}}), false),
            (json!({"StringEquals": {"aws:PrincipalTag/team": "CRTS"}}), true),
            // ARNs, part by part.
            (json!({"ArnLike": {source: "arn:aws:execute-api:us-east-1:123456789012:abc123/*/POST/crts"}}), true),
            (json!({"ArnLike": {source: "arn:aws:execute-api:*:*:abc123/*"}}), true),
            (json!({"ArnEquals": {source: "arn:aws:execute-api:*:123456789012:abc123/*"}}), true),
            (json!({"ArnLike": {source: "arn:aws:execute-api:us-east-1:123456789012:other/*"}}), false),
            (json!({"ArnLike": {source: "arn:aws:execute-api:*"}}), false),
            (json!({"ArnLike": {source: "*"}}), false),
            (json!({"ArnLike": {source: "arn:*:*:*:*:*"}}), true),
            (json!({"ArnNotLike": {source: "arn:aws:execute-api:*:*:other/*"}}), true),
            (json!({"ArnNotEquals": {source: "arn:aws:execute-api:*:*:abc123/*"}}), false),
            // Booleans.
            (json!({"Bool": {"aws:SecureTransport": "false"}}), true),
            (json!({"Bool": {"aws:SecureTransport": false}}), true),
            (json!({"Bool": {"aws:SecureTransport": "TRUE"}}), false),
            (json!({"Bool": {"aws:SecureTransport": "no"}}), false),
            // Numbers.
            (json!({"NumericEquals": {"s3:max-keys": "100"}}), true),
            (json!({"NumericEquals": {"s3:max-keys": 100}}), true),
            (json!({"NumericNotEquals": {"s3:max-keys": "100"}}), false),
            (json!({"NumericLessThan": {"s3:max-keys": "101"}}), true),
            (json!({"NumericLessThan": {"s3:max-keys": "100"}}), false),
            (json!({"NumericLessThanEquals": {"s3:max-keys": "100"}}), true),
            (json!({"NumericGreaterThan": {"s3:max-keys": "99.5"}}), true),
            (json!({"NumericGreaterThanEquals": {"s3:max-keys": "101"}}), false),
            (json!({"NumericLessThan": {"s3:max-keys": "many"}}), false),
            (json!({"NumericLessThan": {"aws:RequestedRegion": "5"}}), false),
            // Dates: ISO 8601 and epoch seconds, on either side.
            (json!({"DateEquals": {"aws:CurrentTime": "2026-11-25T10:00:00Z"}}), true),
            (json!({"DateEquals": {"aws:CurrentTime": "1795600800"}}), true),
            (json!({"DateEquals": {"aws:EpochTime": "2026-11-25T10:00:00Z"}}), true),
            (json!({"DateNotEquals": {"aws:CurrentTime": "2026-11-25T10:00:00Z"}}), false),
            (json!({"DateLessThan": {"aws:CurrentTime": "2026-12-31T23:59:59Z"}}), true),
            (json!({"DateLessThan": {"aws:CurrentTime": "2026-11-25"}}), false),
            (json!({"DateLessThanEquals": {"aws:CurrentTime": "2026-11-25T11:00:00+01:00"}}), true),
            (json!({"DateGreaterThan": {"aws:CurrentTime": "2026-11-25T09:59:59.500Z"}}), true),
            (json!({"DateGreaterThanEquals": {"aws:EpochTime": "1795600801"}}), false),
            // Several keys and several operators are AND-ed.
            (json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:SourceAccount": "123456789012"}}), true),
            (json!({"StringEquals": {"aws:RequestedRegion": "eu-west-1", "aws:SourceAccount": "999999999999"}}), false),
            (
                json!({"StringEquals": {"aws:SourceAccount": "123456789012"}, "Bool": {"aws:SecureTransport": "true"}}),
                false,
            ),
            (json!({}), true),
            // Policy variables.
            (json!({"StringEquals": {"aws:userid": "AROAEXAMPLE:${aws:username, 'alice'}"}}), true),
            (json!({"StringLike": {"aws:userid": "*:${aws:username}"}}), false),
            (json!({"StringNotLike": {"aws:userid": "*:${aws:username}"}}), true),
            (json!({"StringEquals": {"aws:PrincipalTag/Team": "${aws:PrincipalTag/team}"}}), true),
            (json!({"StringLike": {"aws:RequestedRegion": "${*}"}}), false),
            // IpAddress and BinaryEquals never hold.
            (json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}), false),
            (json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}), false),
        ] {
            assert_eq!(holds(condition.clone(), &ctx), expected, "{condition}");
        }
    }

    #[test]
    fn absent_keys_if_exists_and_null() {
        let ctx = Context::new().with("aws:RequestedRegion", "eu-west-1");
        for (condition, expected) in [
            (json!({"StringEquals": {"aws:SourceArn": "x"}}), false),
            (json!({"StringLike": {"aws:SourceArn": "*"}}), false),
            (json!({"ArnLike": {"aws:SourceArn": "arn:*:*:*:*:*"}}), false),
            (json!({"Bool": {"aws:MultiFactorAuthPresent": "false"}}), false),
            (json!({"NumericLessThan": {"s3:max-keys": "10"}}), false),
            (json!({"DateLessThan": {"aws:TokenIssueTime": "2030-01-01T00:00:00Z"}}), false),
            // Negated operators hold when the key is absent.
            (json!({"StringNotEquals": {"aws:PrincipalOrgID": "o-123"}}), true),
            (json!({"StringNotLike": {"aws:SourceArn": "*"}}), true),
            (json!({"ArnNotLike": {"aws:SourceArn": "arn:*:*:*:*:*"}}), true),
            (json!({"NumericNotEquals": {"s3:max-keys": "10"}}), true),
            (json!({"DateNotEquals": {"aws:TokenIssueTime": "2030-01-01"}}), true),
            // IfExists: true when absent, tested as usual when present.
            (json!({"StringEqualsIfExists": {"aws:SourceArn": "x"}}), true),
            (json!({"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}), true),
            (json!({"NumericLessThanIfExists": {"s3:max-keys": "10"}}), true),
            (json!({"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:s3:::b"}}), true),
            (json!({"StringEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}), false),
            (json!({"StringNotEqualsIfExists": {"aws:RequestedRegion": "us-east-1"}}), true),
            (json!({"StringLikeIfExists": {"aws:RequestedRegion": "eu-*"}}), true),
            // Null tests presence.
            (json!({"Null": {"aws:SourceArn": "true"}}), true),
            (json!({"Null": {"aws:SourceArn": "false"}}), false),
            (json!({"Null": {"aws:RequestedRegion": "false"}}), true),
            (json!({"Null": {"aws:RequestedRegion": true}}), false),
        ] {
            assert_eq!(holds(condition.clone(), &ctx), expected, "{condition}");
        }
    }

    #[test]
    fn set_qualifiers_on_multivalued_keys() {
        let mut ctx = Context::new();
        ctx.insert_values("aws:TagKeys", vec!["team".into(), "env".into()]);
        ctx.insert_values("aws:EmptyList", Vec::new());
        for (condition, expected) in [
            (json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env", "owner"]}}), true),
            (json!({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}), false),
            (json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["team"]}}), true),
            (json!({"ForAnyValue:StringEquals": {"aws:TagKeys": ["owner"]}}), false),
            (json!({"ForAnyValue:StringLike": {"aws:TagKeys": "e*"}}), true),
            (json!({"ForAllValues:StringLike": {"aws:TagKeys": ["t*", "e*"]}}), true),
            (json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["owner"]}}), true),
            (json!({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["team"]}}), false),
            (json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team"]}}), true),
            (json!({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["team", "env"]}}), false),
            // Absent or empty: ForAllValues holds, ForAnyValue does not (unless IfExists).
            (json!({"ForAllValues:StringEquals": {"aws:Absent": "x"}}), true),
            (json!({"ForAllValues:StringEquals": {"aws:EmptyList": "x"}}), true),
            (json!({"ForAnyValue:StringEquals": {"aws:Absent": "x"}}), false),
            (json!({"ForAnyValue:StringEqualsIfExists": {"aws:Absent": "x"}}), true),
            // Without a set operator a multivalued key holds when any value matches.
            (json!({"StringEquals": {"aws:TagKeys": "env"}}), true),
            (json!({"StringNotEquals": {"aws:TagKeys": "env"}}), false),
        ] {
            assert_eq!(holds(condition.clone(), &ctx), expected, "{condition}");
        }
    }

    #[test]
    fn malformed_conditions_are_refused() {
        for (bad, error) in [
            (json!("StringEquals"), ConditionError::Syntax),
            (json!({"StringEquals": "aws:SourceArn"}), ConditionError::Syntax),
            (json!({"StringEquals": {"aws:SourceArn": {"nested": 1}}}), ConditionError::Syntax),
            (json!({"StringEquals": {"aws:SourceArn": [["x"]]}}), ConditionError::Syntax),
            (json!({"StringEqualz": {"aws:SourceArn": "x"}}), ConditionError::Syntax),
            (json!({"DateLessThan": {"aws:CurrentTime": "tomorrow"}}), ConditionError::Date),
        ] {
            assert_eq!(Condition::parse(&bad), Err(error), "{bad}");
        }
        assert_eq!(Condition::parse(&json!({"StringEqualz": {}})), Ok(Condition::default()));
    }
}
