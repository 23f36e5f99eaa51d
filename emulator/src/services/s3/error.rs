//! S3's own errors, as constructors of the one error type ([`AwsError`]); `protocol::rest_xml` writes them
//! (`<Error><Code/><Message/>...</Error>`, or an HTML page on the website endpoint).

use http::{Method, StatusCode};

use crate::protocol::AwsError;

pub fn no_such_bucket(bucket: &str) -> AwsError {
    AwsError::new(StatusCode::NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist")
        .with("BucketName", bucket)
}

pub fn no_such_key(key: &str) -> AwsError {
    AwsError::new(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist.").with("Key", key)
}

pub fn access_denied() -> AwsError {
    AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", "Access Denied")
}

pub fn malformed_xml() -> AwsError {
    AwsError::new(
        StatusCode::BAD_REQUEST,
        "MalformedXML",
        "The XML you provided was not well-formed or did not validate against our published schema",
    )
}

/// `resource_type` is `SERVICE`, `BUCKET` or `OBJECT`.
pub fn method_not_allowed(method: &Method, resource_type: &'static str) -> AwsError {
    AwsError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The specified method is not allowed against this resource.",
    )
    .with("Method", method.as_str())
    .with("ResourceType", resource_type)
}

pub fn invalid_argument(message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
}
