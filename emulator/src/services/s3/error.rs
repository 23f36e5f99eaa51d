//! S3's errors: `<Error><Code/><Message/>...<RequestId/><HostId/></Error>` XML on the REST endpoint (no body for
//! HEAD), an HTML page on the website endpoint.

use std::borrow::Cow;

use axum::body::Body;
use http::{Method, StatusCode};

use crate::protocol::xml::{XmlWriter, escape_into};
use crate::protocol::{AwsError, Response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Extra elements S3 adds for some errors (`BucketName`, `Key`, `Method`...).
    pub extra: Vec<(&'static str, String)>,
}

pub type S3Result<T> = Result<T, S3Error>;

impl S3Error {
    pub fn new(status: StatusCode, code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self { status, code: code.into(), message: message.into(), extra: Vec::new() }
    }

    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist")
            .with("BucketName", bucket)
    }

    pub fn no_such_key(key: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.").with("Key", key)
    }

    pub fn access_denied() -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
    }

    pub fn malformed_xml() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        )
    }

    /// `resource_type` is `BUCKET` or `OBJECT`.
    pub fn method_not_allowed(method: &Method, resource_type: &'static str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
        .with("Method", method.as_str())
        .with("ResourceType", resource_type)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    /// The error as the REST endpoint writes it.
    pub fn to_response(&self, method: &Method, request_id: &str) -> Response {
        let mut builder = http::Response::builder()
            .status(self.status)
            .header("x-amz-request-id", request_id)
            .header("x-amz-id-2", host_id(request_id));
        if method == Method::HEAD {
            return builder.body(Body::empty()).unwrap_or_default();
        }
        let mut xml = XmlWriter::new();
        xml.open("Error", None).text("Code", &self.code).text("Message", &self.message);
        for (name, value) in &self.extra {
            xml.text(name, value);
        }
        xml.text("RequestId", request_id).text("HostId", &host_id(request_id)).close("Error");
        builder = builder.header(http::header::CONTENT_TYPE, "application/xml");
        builder.body(Body::from(xml.finish())).unwrap_or_default()
    }

    /// The error as the website endpoint writes it: an HTML page with the same facts.
    pub fn to_html_response(&self, method: &Method, request_id: &str) -> Response {
        let title = format!("{} {}", self.status.as_u16(), self.status.canonical_reason().unwrap_or(""));
        let mut html = String::new();
        html.push_str("<html>\n<head><title>");
        escape_into(&mut html, &title);
        html.push_str("</title></head>\n<body>\n<h1>");
        escape_into(&mut html, &title);
        html.push_str("</h1>\n<ul>\n");
        let mut item = |name: &str, value: &str| {
            html.push_str("<li>");
            html.push_str(name);
            html.push_str(": ");
            escape_into(&mut html, value);
            html.push_str("</li>\n");
        };
        item("Code", &self.code);
        item("Message", &self.message);
        for (name, value) in &self.extra {
            item(name, value);
        }
        item("RequestId", request_id);
        item("HostId", &host_id(request_id));
        html.push_str("</ul>\n<hr/>\n</body>\n</html>\n");
        let body = if method == Method::HEAD { Body::empty() } else { Body::from(html) };
        http::Response::builder()
            .status(self.status)
            .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
            .header("x-amz-request-id", request_id)
            .header("x-amz-id-2", host_id(request_id))
            .body(body)
            .unwrap_or_default()
    }
}

impl From<AwsError> for S3Error {
    fn from(err: AwsError) -> Self {
        Self { status: err.status, code: err.code, message: err.message, extra: Vec::new() }
    }
}

/// `x-amz-id-2`: an opaque id derived from the request id (AWS's is base64 too).
pub fn host_id(request_id: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(request_id.as_bytes())
}
