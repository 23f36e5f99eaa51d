//! Placeholder until the service is implemented: every operation answers NotImplemented.

use std::sync::Arc;

use bytes::Bytes;

use crate::protocol::{AwsError, AwsRequest, Response, rest_json};
use crate::server::AppState;

pub async fn handle(_state: &Arc<AppState>, req: AwsRequest) -> Response {
    rest_json::error(&AwsError::not_implemented(&req.raw_path), rest_json::ErrorStyle::LambdaTyped)
}

/// What a synchronous invocation returned.
#[derive(Debug, Clone)]
pub struct InvokeOutcome {
    /// The function's response payload (JSON), or Lambda's error payload when `function_error` is set.
    pub payload: Bytes,
    /// `Unhandled` when the handler raised or timed out (the `X-Amz-Function-Error` header).
    pub function_error: Option<String>,
}

/// An AWS service (API Gateway) invoking a function on a user's behalf.
#[derive(Debug, Clone)]
pub struct ServiceInvocation<'a> {
    /// Function name, partial or full ARN.
    pub function: &'a str,
    pub account_id: &'a str,
    pub region: &'a str,
    /// e.g. `apigateway.amazonaws.com`: must be granted by the function's resource policy (AddPermission).
    pub principal: &'a str,
    /// e.g. `arn:aws:execute-api:us-east-1:000000000000:abc123/default/POST/crts`, matched against `SourceArn`.
    pub source_arn: &'a str,
    pub payload: Bytes,
}

#[derive(Debug, Default)]
pub struct Lambda;

impl Lambda {
    pub fn new(_config: crate::config::LambdaConfig) -> Self {
        Self
    }

    /// Invokes a function synchronously for another service. Errors: the function does not exist
    /// (ResourceNotFoundException), or its resource policy does not allow `principal` from `source_arn`
    /// (AccessDeniedException): API Gateway turns both into its own 5xx answers.
    pub async fn invoke_for_service(
        &self,
        _state: &Arc<AppState>,
        invocation: ServiceInvocation<'_>,
    ) -> Result<InvokeOutcome, AwsError> {
        Err(AwsError::not_implemented(invocation.function))
    }

    /// Stops every warm worker process.
    pub async fn shutdown(&self) {}
}
