//! Placeholder until the service is implemented: every operation answers NotImplemented.

use std::sync::Arc;

use crate::protocol::{AwsError, AwsRequest, Response, rest_json};
use crate::server::AppState;

pub async fn handle(_state: &Arc<AppState>, req: AwsRequest) -> Response {
    rest_json::error(&AwsError::not_implemented(&req.raw_path), rest_json::ErrorStyle::Message)
}

#[derive(Debug, Default)]
pub struct Lambda;

impl Lambda {
    pub fn new(_config: crate::config::LambdaConfig) -> Self {
        Self
    }
    pub async fn shutdown(&self) {}
}
