//! The one error type every emulated operation returns, and its constructors.
//!
//! A service decides *what* went wrong (status, AWS error code, message, and for some errors extra elements or
//! headers); the protocol module it is served through decides *how* that is written on the wire: rest-json
//! ([`super::rest_json`]), awsJson ([`super::json`]), awsQuery XML ([`super::query`]), S3's XML or HTML
//! ([`super::rest_xml`]), the OCI registry's JSON ([`super::oci`]).

use std::borrow::Cow;

use http::{HeaderName, HeaderValue, StatusCode};

/// An AWS error as a client sees it: HTTP status, the error code (`x-amzn-ErrorType`, `<Code>`), a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// awsQuery distinguishes `Sender` (client) from `Receiver` (server) faults.
    pub sender_fault: bool,
    /// Elements S3 adds to some errors after the message (`BucketName`, `Key`, `Method`...), in order. Only restXml
    /// writes them; the JSON and query protocols have no place for them.
    pub extra: Vec<(&'static str, String)>,
    /// Headers the error response carries besides its body (the registry's `WWW-Authenticate` on 401, `Range` on
    /// 416). Every protocol writes them, after its own content type.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl AwsError {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            sender_fault: status.is_client_error(),
            extra: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// Adds an element to the error body (restXml only): `<BucketName>site</BucketName>`.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    /// Adds a header to the error response; a value that is not a valid header value is left out.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// Copies [`AwsError::headers`] onto a response the protocol has written.
    pub(crate) fn add_headers_to(&self, response: &mut super::Response) {
        for (name, value) in &self.headers {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }

    /// 400 with the given code: the most common client error shape.
    pub fn bad_request(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 with the given code.
    pub fn not_found(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 409 with the given code.
    pub fn conflict(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// The body could not be decoded into the operation's input shape.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::bad_request("SerializationException", message)
    }

    /// A required member is missing or a member has the wrong type/value.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::bad_request("ValidationException", message)
    }

    /// No operation of a rest-json service matches the request's method and path: 404 UnknownOperationException,
    /// as AWS's common errors list it (and Smithy's services answer a request no operation claims). Used whether
    /// AWS has such an operation that the emulator lacks or has none at all; the message says which service.
    pub fn unknown_operation(service: &str, method: &http::Method, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "UnknownOperationException",
            format!("crts-emulator does not implement {service} {method} {path}"),
        )
    }

    /// The operation exists on AWS, but not this part of it (a feature of its input) in this emulator.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("The operation {operation} is not implemented by crts-emulator"),
        )
    }

    /// A bug in the emulator. The detail is logged with its location; the client only sees InternalError.
    #[track_caller]
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let location = std::panic::Location::caller();
        tracing::error!(%location, "internal error: {detail}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", "An internal error occurred")
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status.as_u16(), self.message)
    }
}

impl std::error::Error for AwsError {}

pub type AwsResult<T> = Result<T, AwsError>;
