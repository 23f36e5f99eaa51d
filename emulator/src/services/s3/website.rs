//! The static website endpoint (`{bucket}.s3-website-{region}.amazonaws.com` and the local host forms): GET and
//! HEAD only, anonymous, index documents for `/` and `folder/`, a redirect for `folder` when `folder/` has an
//! index, the error document, and HTML error pages (404 NoSuchKey, 403 AccessDenied, ...).

use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::S3;
use super::error;
use super::model::Website;
use super::objects::serve_object;
use super::{arn, buckets, cors, empty_with};
use crate::identity::Caller;
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, rest_xml};
use crate::services::{Authorize, Call};

/// The bucket a website host names: `{bucket}.s3-website.localhost[.localstack.cloud]`,
/// `{bucket}.s3-website-{region}.amazonaws.com` or `{bucket}.s3-website.{region}.amazonaws.com`.
pub fn bucket_from_website_host(host: &str) -> Option<String> {
    let host = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
    let at = host.find(".s3-website")?;
    let rest = &host[at + ".s3-website".len()..];
    let known = rest == ".localhost"
        || rest == ".localhost.localstack.cloud"
        || (rest.ends_with(".amazonaws.com") && (rest.starts_with('-') || rest.starts_with('.')));
    (known && at > 0).then(|| host[..at].to_owned())
}

/// Serves one request to the website endpoint of `bucket`. Requests are anonymous, as from a browser, whatever
/// credentials they carry.
pub async fn handle(s3: &S3, iam: &dyn Authorize, bucket: &str, mut req: AwsRequest) -> Response {
    req.ctx.caller = Caller::Anonymous;
    let request_id = req.ctx.request_id.clone();
    let method = req.method.clone();
    let call = Call { service: s3, req: &req, iam, operation: method.as_str() };
    let mut response = match serve(&call, bucket) {
        Ok(response) => response,
        Err(failure) => failure.into_response(&call, bucket),
    };
    if req.headers.contains_key("origin")
        && let Ok(rules) = s3.with_bucket(bucket, |b| Ok(b.cors.clone()))
    {
        response.headers_mut().extend(cors::actual_request_headers(rules.as_deref(), &req.headers, method.as_str()));
    }
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert("x-amz-request-id", value);
    }
    if let Ok(value) = HeaderValue::from_str(&rest_xml::host_id(&request_id)) {
        headers.insert("x-amz-id-2", value);
    }
    headers.insert(http::header::SERVER, HeaderValue::from_static("AmazonS3"));
    response
}

/// Why the website could not serve the object: an error page, possibly replaced by the error document.
struct Failure {
    error: AwsError,
    /// Whether the bucket's error document may stand in (404/403 for objects do; a missing bucket does not).
    error_document: bool,
}

impl Failure {
    fn plain(error: AwsError) -> Self {
        Self { error, error_document: false }
    }

    fn into_response(self, call: &Call<'_, S3>, bucket: &str) -> Response {
        if self.error_document
            && let Some(response) = error_document(call, bucket, self.error.status)
        {
            return response;
        }
        rest_xml::html_error(&self.error, &call.req.method, call.request_id())
    }
}

fn serve(call: &Call<'_, S3>, bucket: &str) -> Result<Response, Failure> {
    if call.req.method == Method::OPTIONS {
        let rules = call.service.with_bucket(bucket, |b| Ok(b.cors.clone())).map_err(Failure::plain)?;
        let headers = cors::preflight(rules.as_deref(), &call.req.headers).map_err(Failure::plain)?;
        return Ok(empty_with(StatusCode::OK, headers));
    }
    if call.req.method != Method::GET && call.req.method != Method::HEAD {
        return Err(Failure::plain(error::method_not_allowed(&call.req.method, "OBJECT")));
    }
    let website = call
        .service
        .with_bucket(bucket, |b| b.website.clone().ok_or_else(|| buckets::no_such_website_configuration(bucket)))
        .map_err(Failure::plain)?;
    let path = percent_encoding::percent_decode_str(&call.req.raw_path).decode_utf8_lossy().into_owned();
    let (index_suffix, _error_key) = match website {
        Website::RedirectAll { host, protocol } => {
            let location = format!("{}://{host}{}", protocol.as_deref().unwrap_or("http"), call.req.raw_path);
            return Ok(redirect(StatusCode::MOVED_PERMANENTLY, &location));
        }
        Website::Site { index_suffix, error_key, .. } => (index_suffix, error_key),
    };
    let relative = path.trim_start_matches('/');
    let key = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}{index_suffix}")
    } else {
        relative.to_owned()
    };
    let object = read(call, bucket, &key).map_err(|error| Failure { error, error_document: true })?;
    match object {
        Some(object) => serve_object(&object, &call.req.headers, &call.req.method, false).map_err(Failure::plain),
        None => {
            // `folder` without its slash: redirect when `folder/<index>` exists.
            if !relative.is_empty()
                && !relative.ends_with('/')
                && matches!(read(call, bucket, &format!("{relative}/{index_suffix}")), Ok(Some(_)))
            {
                return Ok(redirect(StatusCode::FOUND, &format!("/{relative}/")));
            }
            Err(Failure { error: error::no_such_key(&key), error_document: true })
        }
    }
}

/// The object behind `key` if the public may read it: `Ok(None)` when it does not exist, AccessDenied when the
/// bucket policy (or Block Public Access) does not let anonymous readers have it.
fn read(call: &Call<'_, S3>, bucket: &str, key: &str) -> AwsResult<Option<super::model::Object>> {
    let exists = call.service.with_bucket(bucket, |b| Ok(b.objects.get(key).cloned()))?;
    match exists {
        Some(object) => {
            call.authorize_on(bucket, "s3:GetObject", &arn(bucket, Some(key)))?;
            Ok(Some(object))
        }
        None => Ok(None),
    }
}

/// The bucket's error document with the error's status, when one is configured and readable.
fn error_document(call: &Call<'_, S3>, bucket: &str, status: StatusCode) -> Option<Response> {
    let key = call
        .service
        .with_bucket(bucket, |b| {
            Ok(match &b.website {
                Some(Website::Site { error_key: Some(key), .. }) => Some(key.clone()),
                _ => None,
            })
        })
        .ok()??;
    let object = read(call, bucket, &key).ok()??;
    let mut response = serve_object(&object, &HeaderMap::new(), &call.req.method, false).ok()?;
    *response.status_mut() = status;
    Some(response)
}

fn redirect(status: StatusCode, location: &str) -> Response {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(http::header::LOCATION, value);
    }
    empty_with(status, headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn website_host_forms() {
        let b = |h: &str| bucket_from_website_host(h);
        assert_eq!(b("site.s3-website.localhost:4566"), Some("site".into()));
        assert_eq!(b("site.s3-website.localhost.localstack.cloud:4566"), Some("site".into()));
        assert_eq!(b("cris-swagger-bucket.s3-website-us-east-1.amazonaws.com"), Some("cris-swagger-bucket".into()));
        assert_eq!(b("my.site.s3-website.eu-central-1.amazonaws.com"), Some("my.site".into()));
        assert_eq!(b("site.s3.localhost:4566"), None);
        assert_eq!(b("s3-website.localhost"), None);
    }
}
