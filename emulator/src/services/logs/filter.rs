//! CloudWatch Logs filter patterns for unstructured events, as FilterLogEvents applies them.
//!
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>
//!
//! - terms separated by spaces must all appear (case-sensitive): `ERROR Exception`;
//! - a term with characters other than letters, digits and `_` is quoted: `"Task timed out"` matches the phrase;
//! - `?term` terms are alternatives: `?ERROR ?WARN` matches events with either (with plain terms too, every plain
//!   term and at least one alternative must appear);
//! - `-term` excludes: `ERROR -Exiting` matches events with ERROR and without Exiting;
//! - an empty pattern (or none) matches every event.
//!
//! Deliberate deviation: JSON (`{ $.level = "ERROR" }`), space-delimited (`[ip, user, ...]`) and regular-expression
//! (`%...%`) patterns are refused, naming what this emulator evaluates, rather than matched wrongly.

/// A parsed unstructured filter pattern.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilterPattern {
    all: Vec<String>,
    any: Vec<String>,
    none: Vec<String>,
}

impl FilterPattern {
    /// Parses `pattern`; the error is InvalidParameterException's message.
    pub fn parse(pattern: &str) -> Result<Self, String> {
        let pattern = pattern.trim();
        match pattern.chars().next() {
            Some('{') if !pattern.ends_with('}') => {
                return Err("Invalid filter pattern: If a filter pattern starts with '{' it must end with '}'".into());
            }
            Some('{' | '[' | '%') => {
                return Err(format!(
                    "crts-emulator evaluates unstructured filter patterns (terms, \"quoted phrases\", ?term, -term), not JSON, space-delimited or regular-expression ones: {pattern}"
                ));
            }
            _ => {}
        }
        let mut parsed = Self::default();
        let mut rest = pattern;
        while !rest.is_empty() {
            let (prefix, body) = match rest.as_bytes()[0] {
                b'?' => (Some('?'), &rest[1..]),
                b'-' => (Some('-'), &rest[1..]),
                _ => (None, rest),
            };
            let (term, after) = if let Some(quoted) = body.strip_prefix('"') {
                let end = quoted
                    .find('"')
                    .ok_or_else(|| format!("Invalid filter pattern: Unterminated quote in '{rest}'"))?;
                let term = &quoted[..end];
                if term.is_empty() {
                    return Err("Invalid filter pattern: Invalid character(s) in term '\"\"'".to_owned());
                }
                (term.to_owned(), &quoted[end + 1..])
            } else {
                let end = body.find(char::is_whitespace).unwrap_or(body.len());
                let term = &body[..end];
                if term.is_empty() || !term.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    let shown = &rest[..(end + rest.len() - body.len()).min(rest.len())];
                    return Err(format!("Invalid filter pattern: Invalid character(s) in term '{shown}'"));
                }
                (term.to_owned(), &body[end..])
            };
            match prefix {
                Some('?') => parsed.any.push(term),
                Some(_) => parsed.none.push(term),
                None => parsed.all.push(term),
            }
            if !after.is_empty() && !after.starts_with(char::is_whitespace) {
                return Err(format!("Invalid filter pattern: Invalid character(s) in term '{rest}'"));
            }
            rest = after.trim_start();
        }
        Ok(parsed)
    }

    pub fn matches(&self, message: &str) -> bool {
        self.all.iter().all(|term| message.contains(term.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|term| message.contains(term.as_str())))
            && !self.none.iter().any(|term| message.contains(term.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::FilterPattern;

    #[test]
    fn patterns_match_as_cloudwatch_logs_documents_them() {
        let cases: &[(&str, &str, bool)] = &[
            ("", "anything", true),
            ("ERROR", "[ERROR] boom", true),
            ("ERROR", "[error] boom", false),
            ("ERROR Exception", "ERROR: Exception raised", true),
            ("ERROR Exception", "ERROR only", false),
            ("\"Task timed out\"", "2026-12-04 Task timed out after 3.00 seconds", true),
            ("\"Task timed out\"", "Task has timed out", false),
            ("?ERROR ?WARN", "WARN disk", true),
            ("?ERROR ?WARN", "INFO fine", false),
            ("ERROR -Exiting", "ERROR and Exiting", false),
            ("ERROR -Exiting", "ERROR alone", true),
            ("START ?crts ?other", "START RequestId: crts", true),
            ("START ?crts ?other", "START RequestId: x", false),
            ("-\"RequestId: 1\"", "END RequestId: 2", true),
        ];
        for (pattern, message, expected) in cases {
            let parsed = FilterPattern::parse(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(parsed.matches(message), *expected, "{pattern:?} on {message:?}");
        }
    }

    #[test]
    fn malformed_and_unsupported_patterns_are_refused_in_aws_words() {
        let cases: &[(&str, &str)] = &[
            ("\"\"", "Invalid filter pattern: Invalid character(s) in term '\"\"'"),
            ("?", "Invalid filter pattern: Invalid character(s) in term '?'"),
            ("RequestId:", "Invalid filter pattern: Invalid character(s) in term 'RequestId:'"),
            ("\"open", "Invalid filter pattern: Unterminated quote in '\"open'"),
            (
                "{ $.level = \"ERROR\"",
                "Invalid filter pattern: If a filter pattern starts with '{' it must end with '}'",
            ),
            ("{ $.level = \"ERROR\" }", "crts-emulator evaluates unstructured filter patterns"),
            ("[ip, user]", "crts-emulator evaluates unstructured filter patterns"),
            ("%ERR.R%", "crts-emulator evaluates unstructured filter patterns"),
        ];
        for (pattern, message) in cases {
            let refused = FilterPattern::parse(pattern).expect_err(pattern);
            assert!(refused.starts_with(message), "{pattern:?}: {refused}");
        }
    }
}
