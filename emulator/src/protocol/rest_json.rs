//! The rest-json protocol (API Gateway, Lambda, Batch): JSON bodies, errors as `x-amzn-ErrorType` + JSON.
//!
//! Reference: <https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html>.

use axum::body::Body;
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AwsError, AwsRequest, Response};

/// How a service writes the message member of its error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `{"message": "..."}` (API Gateway, Batch).
    Message,
    /// `{"Type": "User", "message": "..."}` (Lambda).
    LambdaTyped,
}

/// Decodes the request body as the operation's input shape. An empty body decodes as `{}`.
pub fn input<T: DeserializeOwned>(req: &AwsRequest) -> Result<T, AwsError> {
    super::json::decode_body(&req.body)
}

/// Decodes the request body as untyped JSON (an empty body is `{}`).
pub fn input_value(req: &AwsRequest) -> Result<serde_json::Value, AwsError> {
    input(req)
}

/// A JSON response with the given status.
pub fn respond<T: Serialize>(status: StatusCode, output: &T) -> Response {
    match serde_json::to_vec(output) {
        Ok(bytes) => json_bytes(status, bytes),
        Err(e) => error(&AwsError::internal(format!("serializing output: {e}")), ErrorStyle::Message),
    }
}

/// A 200 JSON response.
pub fn ok<T: Serialize>(output: &T) -> Response {
    respond(StatusCode::OK, output)
}

/// An empty response with the given status (e.g. 202 or 204).
pub fn empty(status: StatusCode) -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// Raw JSON bytes with a status.
pub fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A blob output (the whole body is the member, as API Gateway's GetExport answers) with its content type and
/// further headers.
pub fn blob(content_type: &str, headers: &[(&str, String)], bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(http::header::CONTENT_TYPE, value);
    }
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(*name), HeaderValue::from_str(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// Writes an error as rest-json: `x-amzn-ErrorType: <code>` and a JSON body with the message.
pub fn error(err: &AwsError, style: ErrorStyle) -> Response {
    let body = match style {
        ErrorStyle::Message => serde_json::json!({ "message": err.message }),
        ErrorStyle::LambdaTyped => serde_json::json!({
            "Type": if err.sender_fault { "User" } else { "Service" },
            "message": err.message,
        }),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = json_bytes(err.status, bytes);
    if let Ok(value) = HeaderValue::from_str(&err.code) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    err.add_headers_to(&mut response);
    response
}

/// Turns a handler result into a response, writing errors in the service's style.
pub fn finish(result: Result<Response, AwsError>, style: ErrorStyle) -> Response {
    result.unwrap_or_else(|err| error(&err, style))
}
