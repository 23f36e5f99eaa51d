//! S3 on the restXml protocol: buckets, objects, Block Public Access, bucket policies (evaluated for anonymous
//! requests), CORS, and static website hosting with its own endpoint ([`website`]).
//!
//! Addressing: path-style (`/bucket/key`) and virtual-host-style (`bucket.s3.localhost.localstack.cloud`,
//! `bucket.s3[.region].amazonaws.com`, `bucket.localhost`). Who may do what:
//! - the account's own keys: everything (as an administrator);
//! - role sessions (Lambda functions): their IAM policies, `s3:<Action>` on the bucket or object ARN;
//! - anonymous requests: the bucket policy's statements for `Principal: "*"`, unless Block Public Access's
//!   RestrictPublicBuckets is on for a bucket whose policy is public.
//!
//! Modules: [`model`] (what is stored, versions included), [`buckets`] (bucket operations and configuration:
//! versioning, Object Ownership, ACLs), [`objects`] (object operations, listings, conditional writes), [`versions`]
//! (ListObjectVersions), [`multipart`] (multipart uploads, UploadPartCopy), [`payload`] (aws-chunked bodies, checksums), [`cors`], [`bucket_policy`], [`error`], [`website`].

pub mod bucket_policy;
pub(crate) mod buckets;
pub mod cors;
pub mod error;
pub mod model;
pub(crate) mod multipart;
mod objects;
pub mod payload;
#[cfg(test)]
mod service_tests;
mod versions;
pub mod website;

use std::collections::BTreeMap;
use std::sync::Mutex;

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use crate::identity::Caller;
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, rest_xml, xml};
use crate::services::iam::Protocol;
use crate::services::{Authorize, Call, Service};
use bucket_policy::Verdict;
use model::Bucket;

/// S3's calls name the HTTP method as their operation: S3 chooses its IAM action per resource (`s3:GetObject` on
/// the object, then `s3:ListBucket` on the bucket when the key is missing; `s3:DeleteObject` per key of a
/// DeleteObjects), so its handlers authorize with explicit actions ([`Call::authorize_on`]), never with
/// `Call::authorize`.
impl Service for S3 {
    const IAM_PREFIX: &'static str = "s3";
    const PROTOCOL: Protocol = Protocol::RestXml;
}

/// The S3 namespace of XML documents.
pub const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// All buckets of one emulator instance (bucket names are global, as on AWS).
#[derive(Debug, Default)]
pub struct S3 {
    buckets: Mutex<BTreeMap<String, Bucket>>,
}

impl S3 {
    pub fn new() -> Self {
        Self::default()
    }

    /// The buckets of one account in one region with their tags (for the Resource Groups Tagging API).
    pub fn tagged(&self, account: &str, region: &str) -> Vec<crate::services::tagging::Tagged> {
        self.with_buckets(|buckets| {
            buckets
                .values()
                .filter(|b| b.owner == account && b.region == region)
                .map(|b| crate::services::tagging::Tagged {
                    arn: format!("arn:aws:s3:::{}", b.name),
                    tags: b.tags.clone().unwrap_or_default(),
                })
                .collect()
        })
    }

    /// Runs `f` on every bucket. The lock is never held across an `.await`.
    fn with_buckets<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Bucket>) -> T) -> T {
        let mut buckets = crate::store::lock(&self.buckets);
        f(&mut buckets)
    }

    /// Runs `f` on one bucket, or fails with NoSuchBucket.
    fn with_bucket<T>(&self, name: &str, f: impl FnOnce(&mut Bucket) -> AwsResult<T>) -> AwsResult<T> {
        self.with_buckets(|buckets| match buckets.get_mut(name) {
            Some(bucket) => f(bucket),
            None => Err(error::no_such_bucket(name)),
        })
    }
}

/// What a REST request addresses: nothing (ListBuckets), a bucket, or an object in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub bucket: Option<String>,
    pub key: Option<String>,
}

/// The bucket named by a virtual-host-style host, if the host is one.
pub fn bucket_from_host(host: &str) -> Option<String> {
    let host =
        host.rsplit_once(':').map_or(host, |(h, port)| if port.bytes().all(|b| b.is_ascii_digit()) { h } else { host });
    let host = host.to_ascii_lowercase();
    if host.contains(".s3-website") || host.contains(".execute-api.") {
        return None;
    }
    let bucket = if let Some(bucket) = host.strip_suffix(".s3.localhost.localstack.cloud") {
        bucket
    } else if host.ends_with(".amazonaws.com") {
        let at = host.rfind(".s3.").or_else(|| host.rfind(".s3-"))?;
        &host[..at]
    } else {
        host.strip_suffix(".localhost")?
    };
    (!bucket.is_empty() && !bucket.contains(':')).then(|| bucket.to_owned())
}

/// Splits a request into bucket and key, for either addressing style.
pub fn target_of(host: &str, raw_path: &str) -> Target {
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    match bucket_from_host(host) {
        Some(bucket) => Target { bucket: Some(bucket), key: (!path.is_empty()).then(|| decode(path)) },
        None => {
            let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
            Target { bucket: (!bucket.is_empty()).then(|| decode(bucket)), key: (!key.is_empty()).then(|| decode(key)) }
        }
    }
}

/// Serves one REST request: what it addresses (nothing, a bucket, an object) picks the router, whose `match` on
/// the method and subresource picks the handler.
pub async fn handle(s3: &S3, iam: &dyn Authorize, req: AwsRequest) -> Response {
    let host = req.header("host").unwrap_or("").to_owned();
    let target = target_of(&host, &req.raw_path);
    let method = req.method.clone();
    let request_id = req.ctx.request_id.clone();
    let call = Call { service: s3, req: &req, iam, operation: method.as_str() };
    let result = if let Some(Err(refusal)) = presigned(&req) {
        Err(refusal)
    } else if method == Method::OPTIONS {
        preflight(&call, &target)
    } else {
        let result = match (&target.bucket, &target.key) {
            (None, _) => buckets::service_level(&call),
            (Some(bucket), None) => buckets::bucket_level(&call, bucket),
            (Some(bucket), Some(key)) => objects::object_level(&call, bucket, key),
        };
        result.map(|response| with_cors(&call, &target, response))
    };
    let mut response = result.unwrap_or_else(|err| rest_xml::error(&err, &method, &request_id));
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

/// A presigned URL that S3 refuses before anything else: malformed query authentication (400
/// AuthorizationQueryParametersError), or expired (403 AccessDenied "Request has expired", with the URL's
/// `X-Amz-Expires`, when it expired and the server's time). `None` when the request is not presigned.
///
/// Deliberate deviation, as for every signature here: the signature itself is not verified.
fn presigned(req: &AwsRequest) -> Option<AwsResult<()>> {
    let auth = match crate::protocol::sigv4::query_auth(&req.query)? {
        Ok(auth) => auth,
        Err(message) => {
            return Some(Err(AwsError::new(StatusCode::BAD_REQUEST, "AuthorizationQueryParametersError", message)));
        }
    };
    let now = chrono::Utc::now();
    if now <= auth.expires_at() {
        return Some(Ok(()));
    }
    let iso = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut expired = AwsError::new(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired");
    if !auth.sigv2 {
        expired = expired.with("X-Amz-Expires", auth.expires_in.to_string());
    }
    Some(Err(expired.with("Expires", iso(auth.expires_at())).with("ServerTime", iso(now))))
}

/// An OPTIONS preflight against a bucket or object.
fn preflight(call: &Call<'_, S3>, target: &Target) -> AwsResult<Response> {
    let Some(bucket) = &target.bucket else {
        return Err(AwsError::new(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Insufficient information. Origin request header needed.",
        ));
    };
    let rules = call.service.with_bucket(bucket, |b| Ok(b.cors.clone()))?;
    let headers = cors::preflight(rules.as_deref(), &call.req.headers)?;
    Ok(empty_with(StatusCode::OK, headers))
}

/// Adds the bucket's CORS headers to a successful response when the request carried an `Origin`.
fn with_cors(call: &Call<'_, S3>, target: &Target, mut response: Response) -> Response {
    let req = call.req;
    if req.headers.contains_key("origin")
        && let Some(bucket) = &target.bucket
        && let Ok(rules) = call.service.with_bucket(bucket, |b| Ok(b.cors.clone()))
    {
        let headers = cors::actual_request_headers(rules.as_deref(), &req.headers, req.method.as_str());
        response.headers_mut().extend(headers);
    }
    response
}

/// S3's side of every call: who may do what, by S3's rules.
impl Call<'_, S3> {
    /// May the caller do `action` (`s3:GetObject`) on `resource` (a bucket or object ARN) of `bucket`? A Deny in
    /// the bucket policy that names the caller and whose condition holds refuses anyone (but the owner's own keys
    /// may still read, change and delete the bucket policy, as on S3, so a policy cannot lock its owner out).
    /// Otherwise the account's own keys may; role sessions as IAM decides; anonymous requests as the bucket policy
    /// allows.
    pub fn authorize_on(&self, bucket: &str, action: &str, resource: &str) -> AwsResult<()> {
        let context = self.s3_context(action);
        let caller = self.caller();
        let principals = match caller {
            Caller::Anonymous => None,
            known => Some(crate::services::iam::caller_principals(known)),
        };
        let verdict = self.service.with_bucket(bucket, |b| {
            Ok(match &b.policy {
                Some(policy) => match policy.decide(principals.as_deref(), action, resource, &context) {
                    // RestrictPublicBuckets ignores what a public policy grants; its denials still count.
                    Verdict::Allow if b.block().restrict_public_buckets && policy.is_public() => Verdict::Silent,
                    verdict => verdict,
                },
                None => Verdict::Silent,
            })
        })?;
        let owner_keeps_the_policy = matches!(caller, Caller::Account { .. })
            && matches!(action, "s3:GetBucketPolicy" | "s3:PutBucketPolicy" | "s3:DeleteBucketPolicy");
        if verdict == Verdict::Deny && !owner_keeps_the_policy {
            return Err(match caller {
                Caller::Anonymous => error::access_denied(),
                known => self.refused(crate::services::iam::Denial {
                    message: format!(
                        "User: {} is not authorized to perform: {action} on resource: \"{resource}\" with an explicit \
                         deny in a resource-based policy",
                        known.arn()
                    ),
                }),
            });
        }
        match caller {
            Caller::Account { .. } => Ok(()),
            Caller::Role(_) => self.authorize_in(action, &[resource.to_owned()], &context),
            Caller::Anonymous if verdict == Verdict::Allow => Ok(()),
            Caller::Anonymous => Err(error::access_denied()),
        }
    }

    /// IAM's verdict on a role session's request, refused as S3's 403 AccessDenied with IAM's message.
    pub(crate) fn role_may(&self, action: &str, resource: &str) -> AwsResult<()> {
        self.authorize_in(action, &[resource.to_owned()], &self.s3_context(action))
    }

    /// The request's condition keys ([`Call::context`]) with S3's own: `s3:prefix`, `s3:delimiter` and
    /// `s3:max-keys` for `s3:ListBucket` (the listing's query parameters, present when sent), and the request
    /// headers `s3:x-amz-acl`, `s3:x-amz-server-side-encryption`, `s3:x-amz-storage-class` when sent.
    ///
    /// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html#amazons3-policy-keys>
    fn s3_context(&self, action: &str) -> crate::services::iam::Context {
        let mut context = self.context();
        if action == "s3:ListBucket" {
            for parameter in ["prefix", "delimiter", "max-keys"] {
                if let Some(value) = self.req.query_param(parameter) {
                    context.insert(&format!("s3:{parameter}"), value);
                }
            }
        }
        for header in ["x-amz-acl", "x-amz-server-side-encryption", "x-amz-storage-class"] {
            if let Some(value) = self.req.header(header) {
                context.insert(&format!("s3:{header}"), value);
            }
        }
        context
    }
}

/// `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/key`.
pub fn arn(bucket: &str, key: Option<&str>) -> String {
    match key {
        Some(key) => format!("arn:aws:s3:::{bucket}/{key}"),
        None => format!("arn:aws:s3:::{bucket}"),
    }
}

/// A response without a body.
fn empty_with(status: StatusCode, headers: HeaderMap) -> Response {
    let mut response = http::Response::builder().status(status).body(Body::empty()).unwrap_or_default();
    response.headers_mut().extend(headers);
    response
}

/// S3's timestamp format in XML: `2026-11-25T10:00:00.000Z`.
fn xml_time(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// HTTP dates in headers: `Wed, 25 Nov 2026 10:00:00 GMT`.
fn http_time(time: &chrono::DateTime<chrono::Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an XML request body; S3 answers MalformedXML for anything unreadable.
fn parse_xml(body: &[u8]) -> AwsResult<xml::Element> {
    xml::parse(body).ok_or_else(error::malformed_xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_and_virtual_host_addressing() {
        let t = |bucket: Option<&str>, key: Option<&str>| Target {
            bucket: bucket.map(str::to_owned),
            key: key.map(str::to_owned),
        };
        assert_eq!(target_of("127.0.0.1:4566", "/"), t(None, None));
        assert_eq!(target_of("127.0.0.1:4566", "/b"), t(Some("b"), None));
        assert_eq!(target_of("127.0.0.1:4566", "/b/"), t(Some("b"), None));
        assert_eq!(target_of("localhost:4566", "/b/dir/a%20b.txt"), t(Some("b"), Some("dir/a b.txt")));
        assert_eq!(target_of("b.s3.localhost.localstack.cloud:4566", "/k"), t(Some("b"), Some("k")));
        assert_eq!(target_of("s3.localhost.localstack.cloud:4566", "/b/k"), t(Some("b"), Some("k")));
        assert_eq!(target_of("my.site.s3.eu-west-1.amazonaws.com", "/"), t(Some("my.site"), None));
        assert_eq!(target_of("b.s3.amazonaws.com", "/x/y"), t(Some("b"), Some("x/y")));
        assert_eq!(target_of("b.localhost:4566", "/k"), t(Some("b"), Some("k")));
        assert_eq!(bucket_from_host("b.s3-website.localhost:4566"), None);
        assert_eq!(bucket_from_host("localhost:4566"), None);
    }
}
