//! The OCI Distribution API's wire (ECR's registry, `/v2/...`): JSON bodies, errors as
//! `{"errors": [{"code": "NAME_UNKNOWN", "message": "...", "detail": {}}]}`.
//!
//! Reference: <https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes>.

use axum::body::Body;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use super::{AwsError, AwsResult, Response};

/// A JSON document with a status.
pub fn json(status: StatusCode, body: &serde_json::Value) -> Response {
    json_bytes(status, body.to_string())
}

/// An error: the code and message in the spec's error list (with an empty `detail`), plus the error's headers.
pub fn error(err: &AwsError) -> Response {
    let body = json!({ "errors": [{ "code": err.code, "message": err.message, "detail": {} }] });
    let mut response = json_bytes(err.status, body.to_string());
    err.add_headers_to(&mut response);
    response
}

/// Turns a handler result into a response.
pub fn finish(result: AwsResult<Response>) -> Response {
    result.unwrap_or_else(|err| error(&err))
}

fn json_bytes(status: StatusCode, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
