//! The wire: everything that reads or writes raw HTTP bodies lives here.
//!
//! Services receive an [`AwsRequest`] (already routed, caller identified) and answer through the helpers of the
//! protocol they are served with: [`rest_json`] (API Gateway, Lambda, Batch), [`json`] (ECR, the Tagging API),
//! [`query`] (IAM, STS), [`rest_xml`] (S3 and its website endpoint) or [`oci`] (ECR's registry). Every one of them
//! writes the one error type, [`AwsError`], in its own shape.

pub mod error;
pub mod json;
pub mod oci;
pub mod query;
pub mod rest_json;
pub mod rest_xml;
pub mod sigv4;
pub mod xml;

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, Method};

pub use error::{AwsError, AwsResult};

use crate::identity::Caller;

/// The HTTP response type every handler produces.
pub type Response = http::Response<Body>;

/// Who is calling, where, and under which request id.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub region: String,
    pub caller: Caller,
    /// The base URL clients used to reach the emulator (`http://127.0.0.1:4566`), for URLs in responses.
    pub endpoint: String,
}

impl RequestContext {
    pub fn account_id(&self) -> &str {
        self.caller.account_id()
    }
}

/// A request routed to one service, with its body still as bytes: the protocol helpers decode it.
#[derive(Debug)]
pub struct AwsRequest {
    pub method: Method,
    /// The path, percent-decoded segment by segment (`/restapis/abc/resources/{function}` stays literal).
    pub segments: Vec<String>,
    /// The raw path as sent, for error messages and proxy events.
    pub raw_path: String,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub ctx: RequestContext,
}

impl AwsRequest {
    /// The first value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A header value as text, if present and valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The path segments as `&str`, for `match` on routes: `["2015-03-31", "functions", name]`.
    pub fn path(&self) -> Vec<&str> {
        self.segments.iter().map(String::as_str).collect()
    }
}

/// Splits a raw path into percent-decoded segments, dropping empty ones.
pub fn decode_segments(raw_path: &str) -> Vec<String> {
    raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect()
}

/// Parses a query string (or a form body) into ordered pairs.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// Headers AWS puts on every response; `x-amzn-RequestId` is what the SDKs read back.
pub fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(value) = request_id.parse() {
        response.headers_mut().insert("x-amzn-RequestId", value);
    }
    response
}

/// A request as the server hands it to a service, for unit tests that drive a service through its entry point.
#[cfg(test)]
pub(crate) fn test_request(
    method: Method,
    path_and_query: &str,
    body: &[u8],
    caller: crate::identity::Caller,
) -> AwsRequest {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    AwsRequest {
        method,
        segments: decode_segments(path),
        raw_path: path.to_owned(),
        query: parse_query(query),
        headers: HeaderMap::new(),
        body: bytes::Bytes::copy_from_slice(body),
        ctx: RequestContext {
            request_id: "req-1".into(),
            region: "us-east-1".into(),
            caller,
            endpoint: "http://127.0.0.1:4566".into(),
        },
    }
}
