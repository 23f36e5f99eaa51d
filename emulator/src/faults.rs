//! Injected failures, for tests that must show how a client copes with a refusal it cannot cause otherwise (a
//! teardown's retries): the next `times` requests for an operation answer 400 `ClientException`, a refusal the AWS
//! SDKs do not retry by themselves. Reachable only in-process ([`crate::Emulator::faults`]), never over HTTP.

use std::sync::Mutex;

use http::StatusCode;

use crate::protocol::{AwsError, Response, rest_json};

#[derive(Debug, Default)]
pub struct Faults {
    /// (operation or path, remaining failures).
    rules: Mutex<Vec<(String, u32)>>,
}

impl Faults {
    /// Makes the next `times` requests whose operation (`DescribeImages`, `GetRole`) or path
    /// (`/v1/deletecomputeenvironment`) is `operation` fail.
    pub fn fail_next(&self, operation: &str, times: u32) {
        crate::store::lock(&self.rules).push((operation.to_owned(), times));
    }

    /// Removes every injected failure.
    pub fn clear(&self) {
        crate::store::lock(&self.rules).clear();
    }

    /// The injected refusal for this request, if one is due (and counts it).
    pub(crate) fn take(&self, operation: &str, path: &str) -> Option<Response> {
        let mut rules = crate::store::lock(&self.rules);
        let rule = rules.iter_mut().find(|(name, remaining)| *remaining > 0 && (name == operation || name == path))?;
        rule.1 -= 1;
        let error = AwsError::new(
            StatusCode::BAD_REQUEST,
            "ClientException",
            format!("injected fault: {operation} refused by the test ({} more to come)", rule.1),
        );
        Some(rest_json::error(&error, rest_json::ErrorStyle::Message))
    }
}
