//! The OCI Distribution API (registry v2) in front of ECR's store: Basic auth with an ECR token, blob HEAD/GET,
//! monolithic and chunked uploads, cross-repository mount, manifests (Docker schema 2 and OCI, images and
//! indexes) by tag or digest, tag listing.
//!
//! <https://github.com/opencontainers/distribution-spec/blob/main/spec.md>

use std::collections::HashMap;

use std::time::{Duration, Instant};

use axum::body::Body;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Method, StatusCode};
use serde_json::json;

use super::Ecr;
use super::api::store_manifest;
use super::model::digest_of;
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, oci};

/// A blob upload in progress.
#[derive(Debug)]
pub struct Upload {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub data: BytesMut,
    /// When a chunk last arrived: uploads left idle for [`ABANDONED_AFTER`] are dropped.
    pub touched: Instant,
}

/// An upload nobody has added to for this long is abandoned (a client that died mid-push) and its bytes are
/// freed when the next upload starts. Docker's own registry purges after a week; pushes here last seconds.
const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// The account and region a registry host names: `{account}.dkr.ecr.{region}.(localhost.localstack.cloud|
/// amazonaws.com)`. Other hosts (`localhost:PORT`) take them from the login token.
pub fn registry_of_host(host: &str) -> Option<(String, String)> {
    let host = host.split(':').next().unwrap_or(host);
    let (account, rest) = host.split_once(".dkr.ecr.")?;
    let region = rest.split('.').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !region.is_empty())
        .then(|| (account.to_owned(), region.to_owned()))
}

/// An error of the OCI Distribution spec (`NAME_UNKNOWN`, `BLOB_UNKNOWN`...); `protocol::oci` writes it.
fn oci_error(status: StatusCode, code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(status, code, message)
}

fn unauthorized(host: &str) -> AwsError {
    let realm = format!("Basic realm=\"https://{host}/\",service=\"ecr.amazonaws.com\"");
    oci_error(
        StatusCode::UNAUTHORIZED,
        "DENIED",
        "Your authorization token has expired or is missing. Reauthenticate and try again.",
    )
    .with_header(http::header::WWW_AUTHENTICATE, &realm)
}

/// Serves one registry request (`/v2/...`).
pub async fn handle(ecr: &Ecr, req: AwsRequest) -> Response {
    let host = req.header("host").unwrap_or("localhost").to_owned();
    let mut response = oci::finish(serve(ecr, &req, &host));
    response.headers_mut().insert("Docker-Distribution-API-Version", HeaderValue::from_static("registry/2.0"));
    response
}

fn serve(ecr: &Ecr, req: &AwsRequest, host: &str) -> AwsResult<Response> {
    // Basic auth: user AWS, password a token from GetAuthorizationToken.
    let credentials = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let Some((account, region)) = credentials
        .as_deref()
        .and_then(|c| c.split_once(':'))
        .filter(|(user, _)| *user == "AWS")
        .and_then(|(_, token)| ecr.check_token(token))
    else {
        return Err(unauthorized(host));
    };
    if let Some((host_account, host_region)) = registry_of_host(host)
        && (host_account != account || host_region != region)
    {
        return Err(oci_error(
            StatusCode::FORBIDDEN,
            "DENIED",
            format!("The token is for registry {account} in {region}, not {host_account} in {host_region}"),
        ));
    }
    let path = req.raw_path.trim_end_matches('/');
    if path == "/v2" {
        return Ok(oci::json(StatusCode::OK, &json!({})));
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Err(oci_error(StatusCode::NOT_FOUND, "NOT_FOUND", "not a registry path"));
    };
    let ctx = Registry { ecr, account: &account, region: &region, req };
    if let Some(name) = rest.strip_suffix("/tags/list") {
        return ctx.tags_list(name);
    }
    if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        return ctx.manifest(name, reference);
    }
    if let Some((name, upload)) = rest.split_once("/blobs/uploads") {
        return ctx.upload(name, upload.trim_start_matches('/'));
    }
    if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        return ctx.blob(name, digest);
    }
    Err(oci_error(StatusCode::NOT_FOUND, "NOT_FOUND", format!("unknown registry path {path}")))
}

fn with_headers(status: StatusCode, body: Body, headers: &[(&str, String)]) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (http::HeaderName::try_from(*name), HeaderValue::from_str(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// One registry request. Not a [`crate::services::Call`]: the OCI Distribution API has no AWS operations, no SigV4
/// caller and no IAM actions; the ECR login token alone names the account and region.
struct Registry<'a> {
    ecr: &'a Ecr,
    account: &'a str,
    region: &'a str,
    req: &'a AwsRequest,
}

impl Registry<'_> {
    fn name_unknown(&self, name: &str) -> AwsError {
        oci_error(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            format!("The repository with name '{name}' does not exist in the registry with id '{}'", self.account),
        )
    }

    fn repository_exists(&self, name: &str) -> bool {
        self.ecr.with_registry(self.account, self.region, |r| r.repositories.contains_key(name))
    }

    fn tags_list(&self, name: &str) -> AwsResult<Response> {
        let tags = self.ecr.with_registry(self.account, self.region, |r| {
            r.repositories.get(name).map(|repo| repo.tags.keys().cloned().collect::<Vec<_>>())
        });
        match tags {
            Some(tags) => Ok(oci::json(StatusCode::OK, &json!({ "name": name, "tags": tags }))),
            None => Err(self.name_unknown(name)),
        }
    }

    /// HEAD/GET a blob the repository links.
    fn blob(&self, name: &str, digest: &str) -> AwsResult<Response> {
        if !matches!(self.req.method, Method::GET | Method::HEAD) {
            return Err(oci_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
                "blobs are deleted with their repository",
            ));
        }
        let found = self.ecr.with_registry(self.account, self.region, |r| {
            let repo = r.repositories.get(name)?;
            if !repo.blobs.contains(digest) {
                return Some(None);
            }
            Some(r.blobs.get(digest).cloned())
        });
        let blob = match found {
            None => return Err(self.name_unknown(name)),
            Some(None) => {
                return Err(oci_error(
                    StatusCode::NOT_FOUND,
                    "BLOB_UNKNOWN",
                    format!("blob {digest} is unknown to repository {name}"),
                ));
            }
            Some(Some(blob)) => blob,
        };
        let headers = [
            ("Content-Length", blob.len().to_string()),
            ("Docker-Content-Digest", digest.to_owned()),
            ("Content-Type", "application/octet-stream".to_owned()),
        ];
        let body = if self.req.method == Method::HEAD { Body::empty() } else { Body::from(blob) };
        Ok(with_headers(StatusCode::OK, body, &headers))
    }

    /// `POST /v2/<name>/blobs/uploads/` (start, monolithic with `?digest=`, mount with `?mount=&from=`),
    /// `PATCH|PUT|GET|DELETE /v2/<name>/blobs/uploads/<id>`.
    fn upload(&self, name: &str, id: &str) -> AwsResult<Response> {
        if !self.repository_exists(name) {
            return Err(self.name_unknown(name));
        }
        let query = |key: &str| self.req.query_param(key);
        match (&self.req.method, id.is_empty()) {
            (&Method::POST, true) => {
                if let (Some(digest), Some(from)) = (query("mount"), query("from")) {
                    let mounted = self.ecr.with_registry(self.account, self.region, |r| {
                        let linked = r.repositories.get(from).is_some_and(|repo| repo.blobs.contains(digest))
                            && r.blobs.contains_key(digest);
                        if linked && let Some(repo) = r.repositories.get_mut(name) {
                            repo.blobs.insert(digest.to_owned());
                        }
                        linked
                    });
                    if mounted {
                        return Ok(self.blob_created(name, digest));
                    }
                }
                if let Some(digest) = query("digest") {
                    return self.commit(name, digest, Bytes::copy_from_slice(&self.req.body));
                }
                let id = uuid::Uuid::new_v4().to_string();
                let mut data = BytesMut::new();
                data.extend_from_slice(&self.req.body);
                let size = data.len();
                let mut uploads = self.ecr.uploads();
                uploads.retain(|_, u| u.touched.elapsed() < ABANDONED_AFTER);
                uploads.insert(
                    id.clone(),
                    Upload {
                        account: self.account.to_owned(),
                        region: self.region.to_owned(),
                        repository: name.to_owned(),
                        data,
                        touched: Instant::now(),
                    },
                );
                drop(uploads);
                Ok(self.upload_accepted(name, &id, size))
            }
            (&Method::PATCH, false) => {
                let size = {
                    let mut uploads = self.ecr.uploads();
                    let Some(upload) = uploads.get_mut(id).filter(|u| self.owns(u, name)) else {
                        return Err(blob_upload_unknown(id));
                    };
                    if let Some(start) = content_range_start(self.req.header("content-range"))
                        && start != upload.data.len()
                    {
                        let have = upload.data.len();
                        drop(uploads);
                        return Err(oci_error(
                            StatusCode::RANGE_NOT_SATISFIABLE,
                            "BLOB_UPLOAD_INVALID",
                            format!("the chunk starts at {start}, the upload has {have} bytes"),
                        )
                        .with_header(http::header::RANGE, &format!("0-{}", have.saturating_sub(1))));
                    }
                    upload.data.extend_from_slice(&self.req.body);
                    upload.touched = Instant::now();
                    upload.data.len()
                };
                Ok(self.upload_accepted(name, id, size))
            }
            (&Method::PUT, false) => {
                let Some(digest) = query("digest") else {
                    return Err(oci_error(
                        StatusCode::BAD_REQUEST,
                        "DIGEST_INVALID",
                        "the digest query parameter is required to finish an upload",
                    ));
                };
                let Some(mut upload) = self.take_upload(&mut self.ecr.uploads(), id, name) else {
                    return Err(blob_upload_unknown(id));
                };
                upload.data.extend_from_slice(&self.req.body);
                self.commit(name, digest, upload.data.freeze())
            }
            (&Method::GET, false) => {
                let size = self.ecr.uploads().get(id).filter(|u| self.owns(u, name)).map(|u| u.data.len());
                match size {
                    Some(size) => Ok(with_headers(
                        StatusCode::NO_CONTENT,
                        Body::empty(),
                        &[
                            ("Location", format!("/v2/{name}/blobs/uploads/{id}")),
                            ("Range", format!("0-{}", size.saturating_sub(1))),
                            ("Docker-Upload-UUID", id.to_owned()),
                        ],
                    )),
                    None => Err(blob_upload_unknown(id)),
                }
            }
            (&Method::DELETE, false) => match self.take_upload(&mut self.ecr.uploads(), id, name) {
                Some(_) => Ok(with_headers(StatusCode::NO_CONTENT, Body::empty(), &[])),
                None => Err(blob_upload_unknown(id)),
            },
            _ => Err(oci_error(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "unsupported upload request")),
        }
    }

    fn owns(&self, upload: &Upload, name: &str) -> bool {
        upload.account == self.account && upload.region == self.region && upload.repository == name
    }

    /// Removes the upload `id` if it belongs to this repository; another repository's upload is left alone.
    fn take_upload(&self, uploads: &mut HashMap<String, Upload>, id: &str, name: &str) -> Option<Upload> {
        if uploads.get(id).is_some_and(|u| self.owns(u, name)) { uploads.remove(id) } else { None }
    }

    fn upload_accepted(&self, name: &str, id: &str, size: usize) -> Response {
        with_headers(
            StatusCode::ACCEPTED,
            Body::empty(),
            &[
                ("Location", format!("/v2/{name}/blobs/uploads/{id}")),
                ("Docker-Upload-UUID", id.to_owned()),
                ("Range", format!("0-{}", size.saturating_sub(1))),
                ("Content-Length", "0".to_owned()),
            ],
        )
    }

    /// Verifies the digest and stores the blob.
    fn commit(&self, name: &str, digest: &str, data: Bytes) -> AwsResult<Response> {
        let actual = digest_of(&data);
        if actual != digest {
            return Err(oci_error(
                StatusCode::BAD_REQUEST,
                "DIGEST_INVALID",
                format!("the upload's digest is {actual}, not {digest}"),
            ));
        }
        self.ecr.with_registry(self.account, self.region, |r| {
            r.blobs.entry(digest.to_owned()).or_insert(data);
            if let Some(repo) = r.repositories.get_mut(name) {
                repo.blobs.insert(digest.to_owned());
            }
        });
        Ok(self.blob_created(name, digest))
    }

    fn blob_created(&self, name: &str, digest: &str) -> Response {
        with_headers(
            StatusCode::CREATED,
            Body::empty(),
            &[
                ("Location", format!("/v2/{name}/blobs/{digest}")),
                ("Docker-Content-Digest", digest.to_owned()),
                ("Content-Length", "0".to_owned()),
            ],
        )
    }

    /// PUT/GET/HEAD/DELETE `/v2/<name>/manifests/<tag or digest>`.
    fn manifest(&self, name: &str, reference: &str) -> AwsResult<Response> {
        let by_digest = reference.starts_with("sha256:");
        match self.req.method {
            Method::PUT if !by_digest && !is_tag(reference) => Err(oci_error(
                StatusCode::BAD_REQUEST,
                "TAG_INVALID",
                format!("invalid tag {reference:?}: a tag is [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}"),
            )),
            Method::PUT => {
                let media_type =
                    self.req.header("content-type").map(|t| t.split(';').next().unwrap_or(t).trim().to_owned());
                let stored = store_manifest(
                    self.ecr,
                    self.account,
                    self.region,
                    name,
                    self.req.body.clone(),
                    media_type.as_deref().filter(|t| *t != "application/json"),
                    (!by_digest).then_some(reference),
                    by_digest.then_some(reference),
                    true,
                );
                match stored {
                    Ok(image) => Ok(with_headers(
                        StatusCode::CREATED,
                        Body::empty(),
                        &[
                            ("Location", format!("/v2/{name}/manifests/{}", image.digest)),
                            ("Docker-Content-Digest", image.digest),
                            ("Content-Length", "0".to_owned()),
                        ],
                    )),
                    Err(err) => {
                        let (status, code) = match err.code.as_ref() {
                            "RepositoryNotFoundException" => (StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
                            "LayersNotFoundException" => (StatusCode::BAD_REQUEST, "BLOB_UNKNOWN"),
                            "ReferencedImagesNotFoundException" => (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
                            "ImageDigestDoesNotMatchException" => (StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
                            "ImageTagAlreadyExistsException" => (StatusCode::BAD_REQUEST, "TAG_INVALID"),
                            _ => (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
                        };
                        Err(oci_error(status, code, err.message))
                    }
                }
            }
            Method::GET | Method::HEAD => {
                let found = self.ecr.with_registry(self.account, self.region, |r| {
                    let repo = r.repositories.get(name)?;
                    let digest = if by_digest { Some(reference.to_owned()) } else { repo.tags.get(reference).cloned() };
                    Some(digest.and_then(|d| repo.images.get(&d).cloned()))
                });
                let image = match found {
                    None => return Err(self.name_unknown(name)),
                    Some(None) => {
                        return Err(oci_error(
                            StatusCode::NOT_FOUND,
                            "MANIFEST_UNKNOWN",
                            format!("Requested image not found: {name}:{reference}"),
                        ));
                    }
                    Some(Some(image)) => image,
                };
                let headers = [
                    ("Content-Type", image.media_type.clone()),
                    ("Content-Length", image.manifest.len().to_string()),
                    ("Docker-Content-Digest", image.digest.clone()),
                ];
                let body = if self.req.method == Method::HEAD { Body::empty() } else { Body::from(image.manifest) };
                Ok(with_headers(StatusCode::OK, body, &headers))
            }
            // By digest the image goes with all its tags; by tag only the tag goes (the spec's "delete a tag").
            Method::DELETE => {
                /// Why a manifest DELETE did not happen.
                enum Kept {
                    Unknown,
                    ReferencedBy(Vec<String>),
                }
                let deleted = self.ecr.with_registry(self.account, self.region, |r| {
                    let repo = r.repositories.get_mut(name).ok_or(Kept::Unknown)?;
                    if !by_digest {
                        return repo.tags.remove(reference).map(drop).ok_or(Kept::Unknown);
                    }
                    if !repo.images.contains_key(reference) {
                        return Err(Kept::Unknown);
                    }
                    let indexes = repo.indexes_referencing(reference);
                    if !indexes.is_empty() {
                        return Err(Kept::ReferencedBy(indexes));
                    }
                    repo.images.remove(reference);
                    repo.tags.retain(|_, d| d != reference);
                    Ok(())
                });
                match deleted {
                    Ok(()) => Ok(with_headers(StatusCode::ACCEPTED, Body::empty(), &[])),
                    Err(Kept::ReferencedBy(indexes)) => Err(oci_error(
                        StatusCode::CONFLICT,
                        "DENIED",
                        format!("Requested image referenced by manifest list: {indexes:?}"),
                    )),
                    Err(Kept::Unknown) => Err(oci_error(
                        StatusCode::NOT_FOUND,
                        "MANIFEST_UNKNOWN",
                        format!("Requested image not found: {name}:{reference}"),
                    )),
                }
            }
            _ => Err(oci_error(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "unsupported manifest request")),
        }
    }
}

fn blob_upload_unknown(id: &str) -> AwsError {
    oci_error(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", format!("blob upload {id} is unknown"))
}

/// The first byte of `Content-Range: <start>-<end>` (chunked uploads).
fn content_range_start(header: Option<&str>) -> Option<usize> {
    header?.trim().trim_start_matches("bytes ").split('-').next()?.trim().parse().ok()
}

/// The OCI Distribution spec's tag grammar: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
/// <https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests>
fn is_tag(reference: &str) -> bool {
    let mut chars = reference.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok && reference.len() <= 128 && chars.all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_hosts_name_account_and_region() {
        assert_eq!(
            registry_of_host("000000000000.dkr.ecr.us-east-1.localhost.localstack.cloud:4566"),
            Some(("000000000000".into(), "us-east-1".into()))
        );
        assert_eq!(
            registry_of_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(("123456789012".into(), "eu-west-1".into()))
        );
        assert_eq!(registry_of_host("localhost:4566"), None);
        assert_eq!(content_range_start(Some("100-199")), Some(100));
        assert!(is_tag("latest") && is_tag("v1.2_rc-3") && is_tag("_x"));
        assert!(!is_tag("%ZZ") && !is_tag("-x") && !is_tag(".x") && !is_tag("") && !is_tag(&"a".repeat(129)));
    }
}
