//! The awsJson1.1 protocol (ECR, the Resource Groups Tagging API): `POST /` with
//! `X-Amz-Target: <Prefix>.<Operation>`, JSON bodies, errors as `{"__type": "<code>", "message": "..."}`.
//!
//! Reference: <https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html>.

use axum::body::Body;
use http::{HeaderValue, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{AwsError, AwsRequest, AwsResult, Response};

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The operation named by `X-Amz-Target` when it has the service's prefix.
pub fn operation<'a>(req: &'a AwsRequest, prefix: &str) -> Result<&'a str, AwsError> {
    let target = req.header("x-amz-target").unwrap_or("");
    target.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('.')).filter(|op| !op.is_empty()).ok_or_else(|| {
        AwsError::bad_request(
            "UnknownOperationException",
            format!("X-Amz-Target `{target}` does not name an operation of {prefix}"),
        )
    })
}

/// The request's JSON body (an empty body is `{}`, as the SDKs send for operations without input), or AWS's
/// SerializationException.
pub fn input_value(req: &AwsRequest) -> Result<serde_json::Value, AwsError> {
    decode_body(&req.body)
}

/// Decodes a JSON body into `T`; an empty (or all-whitespace) body decodes as `{}`. Shared by awsJson and rest-json.
pub(super) fn decode_body<T: DeserializeOwned>(body: &[u8]) -> AwsResult<T> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    serde_json::from_slice(body)
        .map_err(|e| AwsError::serialization(format!("Could not parse request body into the operation's input: {e}")))
}

/// An operation's input shape from the decoded body: wrong types are AWS's SerializationException (missing
/// members are each operation's own error).
pub fn parse<T: DeserializeOwned>(input: serde_json::Value) -> AwsResult<T> {
    serde_json::from_value(input).map_err(|e| AwsError::serialization(format!("Invalid request: {e}")))
}

/// A 200 response with the output shape.
pub fn ok<T: Serialize>(output: &T) -> Response {
    match serde_json::to_vec(output) {
        Ok(bytes) => bytes_response(StatusCode::OK, bytes),
        Err(e) => error(&AwsError::internal(format!("serializing output: {e}"))),
    }
}

/// An error: the code in `__type` (and `x-amzn-ErrorType`), the message in `message`.
pub fn error(err: &AwsError) -> Response {
    let body = serde_json::json!({ "__type": err.code, "message": err.message });
    let mut response = bytes_response(err.status, serde_json::to_vec(&body).unwrap_or_default());
    if let Ok(value) = HeaderValue::from_str(&err.code) {
        response.headers_mut().insert("x-amzn-ErrorType", value);
    }
    err.add_headers_to(&mut response);
    response
}

fn bytes_response(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `json` fuzz target: without serde_json's `float_roundtrip`, a long number was read one unit
    /// in the last place off, so what the emulator wrote back was not what the client sent.
    #[test]
    fn numbers_are_read_exactly() {
        let value: serde_json::Value = decode_body(b"996666666666666666666666666669999").expect("a number");
        assert_eq!(value.as_f64(), Some(996666666666666666666666666669999.0));
        let again: serde_json::Value =
            decode_body(&serde_json::to_vec(&value).expect("serializes")).expect("and reads back");
        assert_eq!(again, value);
        assert_eq!(decode_body::<f64>(b"9.966666666666665e32").expect("a number"), 9.966666666666665e32);
    }
}
