//! Bucket operations: ListBuckets, Create/Head/Delete/ListObjects(V2)/GetBucketLocation, and the bucket's
//! configuration subresources (`?publicAccessBlock`, `?policy`, `?cors`, `?website`).

use http::{HeaderMap, Method, StatusCode};

use super::S3;
use super::bucket_policy::BucketPolicy;
use super::cors::CorsRule;
use super::error;
use super::model::{Bucket, PublicAccessBlock, Versioning, Website};
use super::{XMLNS, arn, empty_with, parse_xml, xml_time};
use crate::protocol::xml::XmlWriter;
use crate::protocol::{AwsError, AwsResult, Response, rest_xml};
use crate::services::Call;

/// `GET /`: ListBuckets.
pub fn service_level(call: &Call<'_, S3>) -> AwsResult<Response> {
    if call.req.method != Method::GET {
        return Err(error::method_not_allowed(&call.req.method, "SERVICE"));
    }
    let caller = call.caller();
    if matches!(caller, crate::identity::Caller::Anonymous) {
        return Err(error::access_denied());
    }
    if let crate::identity::Caller::Role(_) = caller {
        call.role_may("s3:ListAllMyBuckets", "*")?;
    }
    let account = call.account_id().to_owned();
    let buckets: Vec<(String, String, String)> = call.service.with_buckets(|buckets| {
        buckets
            .values()
            .filter(|b| b.owner == account)
            .map(|b| (b.name.clone(), xml_time(&b.created), b.region.clone()))
            .collect()
    });
    let mut xml = XmlWriter::new();
    xml.open("ListAllMyBucketsResult", Some(XMLNS));
    xml.open("Owner", None).text("ID", &owner_id(&account)).close("Owner");
    xml.open("Buckets", None);
    for (name, created, region) in &buckets {
        xml.open("Bucket", None)
            .text("Name", name)
            .text("CreationDate", created)
            .text("BucketRegion", region)
            .close("Bucket");
    }
    xml.close("Buckets").close("ListAllMyBucketsResult");
    Ok(rest_xml::ok(xml.finish()))
}

/// The canonical user id S3 shows for an account (64 hex characters, stable per account).
pub(super) fn owner_id(account: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(account.as_bytes()))
}

/// Everything addressed to `/bucket`.
pub fn bucket_level(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let has = |name: &str| call.req.query.iter().any(|(k, _)| k == name);
    let m = &call.req.method;
    let bucket_arn = arn(bucket, None);
    let auth = |action: &str| -> AwsResult<()> {
        // Authorization needs the bucket to exist (NoSuchBucket first, as S3 answers the owner).
        call.authorize_on(bucket, action, &bucket_arn)
    };
    if has("publicAccessBlock") {
        return match *m {
            Method::PUT => {
                auth("s3:PutBucketPublicAccessBlock")?;
                put_public_access_block(call, bucket)
            }
            Method::GET => {
                auth("s3:GetBucketPublicAccessBlock")?;
                get_public_access_block(call, bucket)
            }
            Method::DELETE => {
                auth("s3:PutBucketPublicAccessBlock")?;
                call.service.with_bucket(bucket, |b| {
                    b.public_access_block = None;
                    Ok(())
                })?;
                Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
            }
            _ => Err(error::method_not_allowed(m, "BUCKET")),
        };
    }
    if has("policy") {
        return match *m {
            Method::PUT => {
                auth("s3:PutBucketPolicy")?;
                put_policy(call, bucket)
            }
            Method::GET => {
                auth("s3:GetBucketPolicy")?;
                let text = call.service.with_bucket(bucket, |b| {
                    b.policy.as_ref().map(|p| p.text.clone()).ok_or_else(|| {
                        AwsError::new(StatusCode::NOT_FOUND, "NoSuchBucketPolicy", "The bucket policy does not exist")
                            .with("BucketName", bucket)
                    })
                })?;
                Ok(http::Response::builder()
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(axum::body::Body::from(text))
                    .unwrap_or_default())
            }
            Method::DELETE => {
                auth("s3:DeleteBucketPolicy")?;
                call.service.with_bucket(bucket, |b| {
                    b.policy = None;
                    Ok(())
                })?;
                Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
            }
            _ => Err(error::method_not_allowed(m, "BUCKET")),
        };
    }
    if has("cors") {
        return match *m {
            Method::PUT => {
                auth("s3:PutBucketCORS")?;
                put_cors(call, bucket)
            }
            Method::GET => {
                auth("s3:GetBucketCORS")?;
                get_cors(call, bucket)
            }
            Method::DELETE => {
                auth("s3:PutBucketCORS")?;
                call.service.with_bucket(bucket, |b| {
                    b.cors = None;
                    Ok(())
                })?;
                Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
            }
            _ => Err(error::method_not_allowed(m, "BUCKET")),
        };
    }
    if has("website") {
        return match *m {
            Method::PUT => {
                auth("s3:PutBucketWebsite")?;
                put_website(call, bucket)
            }
            Method::GET => {
                auth("s3:GetBucketWebsite")?;
                get_website(call, bucket)
            }
            Method::DELETE => {
                auth("s3:DeleteBucketWebsite")?;
                call.service.with_bucket(bucket, |b| {
                    b.website = None;
                    Ok(())
                })?;
                Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
            }
            _ => Err(error::method_not_allowed(m, "BUCKET")),
        };
    }
    if has("tagging") {
        return match *m {
            Method::PUT => {
                auth("s3:PutBucketTagging")?;
                put_tagging(call, bucket)
            }
            Method::GET => {
                auth("s3:GetBucketTagging")?;
                get_tagging(call, bucket)
            }
            Method::DELETE => {
                auth("s3:PutBucketTagging")?;
                call.service.with_bucket(bucket, |b| {
                    b.tags = None;
                    Ok(())
                })?;
                Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
            }
            _ => Err(error::method_not_allowed(m, "BUCKET")),
        };
    }
    if has("versioning") {
        return match *m {
            Method::PUT => {
                auth("s3:PutBucketVersioning")?;
                put_versioning(call, bucket)
            }
            Method::GET => {
                auth("s3:GetBucketVersioning")?;
                get_versioning(call, bucket)
            }
            _ => Err(error::method_not_allowed(m, "BUCKET")),
        };
    }
    if has("versions") && *m == Method::GET {
        auth("s3:ListBucketVersions")?;
        return super::versions::list_object_versions(call, bucket);
    }
    if has("ownershipControls") {
        return match *m {
            Method::PUT => {
                auth("s3:PutBucketOwnershipControls")?;
                put_ownership_controls(call, bucket)
            }
            Method::GET => {
                auth("s3:GetBucketOwnershipControls")?;
                get_ownership_controls(call, bucket)
            }
            Method::DELETE => {
                auth("s3:PutBucketOwnershipControls")?;
                call.service.with_bucket(bucket, |b| {
                    b.ownership = None;
                    Ok(())
                })?;
                Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
            }
            _ => Err(error::method_not_allowed(m, "BUCKET")),
        };
    }
    if has("acl") {
        return acl(call, bucket, None);
    }
    if has("location") && *m == Method::GET {
        auth("s3:GetBucketLocation")?;
        let region = call.service.with_bucket(bucket, |b| Ok(b.region.clone()))?;
        let mut xml = XmlWriter::new();
        let constraint = if region == "us-east-1" { "" } else { region.as_str() };
        xml.open("LocationConstraint", Some(XMLNS));
        let mut out = xml.finish();
        crate::protocol::xml::escape_into(&mut out, constraint);
        out.push_str("</LocationConstraint>");
        return Ok(rest_xml::ok(out));
    }
    if has("delete") && *m == Method::POST {
        return super::objects::delete_objects(call, bucket);
    }
    if has("uploads") && *m == Method::GET {
        auth("s3:ListBucketMultipartUploads")?;
        return super::multipart::list_uploads(call, bucket);
    }
    if let Some((name, _)) = call.req.query.iter().find(|(k, _)| UNSUPPORTED_SUBRESOURCES.contains(&k.as_str())) {
        return Err(AwsError::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            format!("The bucket subresource ?{name} is not implemented by crts-emulator"),
        ));
    }
    match *m {
        Method::PUT => create_bucket(call, bucket),
        Method::HEAD => {
            auth("s3:ListBucket")?;
            let region = call.service.with_bucket(bucket, |b| Ok(b.region.clone()))?;
            let mut response = empty_with(StatusCode::OK, HeaderMap::new());
            if let Ok(value) = region.parse() {
                response.headers_mut().insert("x-amz-bucket-region", value);
            }
            Ok(response)
        }
        Method::DELETE => {
            auth("s3:DeleteBucket")?;
            call.service.with_buckets(|buckets| {
                let b = buckets.get(bucket).ok_or_else(|| error::no_such_bucket(bucket))?;
                // Noncurrent versions and delete markers keep a bucket from being deleted, as on S3.
                if !b.is_empty() {
                    return Err(AwsError::new(
                        StatusCode::CONFLICT,
                        "BucketNotEmpty",
                        "The bucket you tried to delete is not empty",
                    )
                    .with("BucketName", bucket));
                }
                buckets.remove(bucket);
                Ok(())
            })?;
            Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
        }
        Method::GET => {
            auth("s3:ListBucket")?;
            super::objects::list_objects(call, bucket)
        }
        _ => Err(error::method_not_allowed(m, "BUCKET")),
    }
}

/// Subresources S3 has that this emulator does not: refused clearly rather than mistaken for ListObjects.
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "analytics",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "replication",
    "requestPayment",
];

/// PutBucketVersioning: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketVersioning.html>.
/// `<VersioningConfiguration><Status>Enabled|Suspended</Status></VersioningConfiguration>`; any other status is
/// MalformedXML. A bucket once versioned cannot return to never-versioned, as on S3. Deviation: MFA delete is
/// not offered (`<MfaDelete>Enabled</MfaDelete>` is 501 NotImplemented; S3 needs the root user's MFA device).
fn put_versioning(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let root = parse_xml(&call.req.body)?;
    if !root.is("VersioningConfiguration") {
        return Err(error::malformed_xml());
    }
    let status = match root.child_text("Status").map(str::trim) {
        Some("Enabled") => Some(Versioning::Enabled),
        Some("Suspended") => Some(Versioning::Suspended),
        None => None,
        Some(_) => return Err(error::malformed_xml()),
    };
    match root.child_text("MfaDelete").map(str::trim) {
        None | Some("Disabled") => {}
        Some("Enabled") => {
            return Err(AwsError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                "MFA delete is not implemented by crts-emulator",
            ));
        }
        Some(_) => return Err(error::malformed_xml()),
    }
    call.service.with_bucket(bucket, |b| {
        if let Some(status) = status {
            b.versioning = Some(status);
        }
        Ok(())
    })?;
    Ok(empty_with(StatusCode::OK, HeaderMap::new()))
}

/// GetBucketVersioning: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html>; a bucket
/// never versioned answers an empty `VersioningConfiguration`, as S3 does.
fn get_versioning(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let status = call.service.with_bucket(bucket, |b| Ok(b.versioning))?;
    let mut xml = XmlWriter::new();
    xml.open("VersioningConfiguration", Some(XMLNS));
    xml.opt_text("Status", status.map(Versioning::as_str));
    xml.close("VersioningConfiguration");
    Ok(rest_xml::ok(xml.finish()))
}

/// The rules Object Ownership takes.
const OWNERSHIP_RULES: &[&str] = &["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"];

/// PutBucketOwnershipControls:
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketOwnershipControls.html>. One rule,
/// `ObjectOwnership` one of BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter; anything else is
/// MalformedXML. Deviation: under BucketOwnerPreferred or ObjectWriter, ACLs are accepted but not stored
/// ([`super::objects::check_acl`]).
fn put_ownership_controls(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let payload = super::payload::decode(&call.req.headers, call.req.body.clone())?;
    let root = parse_xml(&payload.body)?;
    let rules: Vec<_> = root.children_named("Rule").collect();
    let rule = match rules.as_slice() {
        [rule] if root.is("OwnershipControls") => rule.child_text("ObjectOwnership").map(str::trim),
        _ => None,
    };
    let Some(rule) = rule.filter(|r| OWNERSHIP_RULES.contains(r)) else {
        return Err(error::malformed_xml());
    };
    call.service.with_bucket(bucket, |b| {
        b.ownership = Some(rule.to_owned());
        Ok(())
    })?;
    Ok(empty_with(StatusCode::OK, HeaderMap::new()))
}

/// GetBucketOwnershipControls:
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketOwnershipControls.html>. New buckets answer
/// BucketOwnerEnforced (S3's default since April 2023); after DeleteBucketOwnershipControls, 404
/// OwnershipControlsNotFoundError, as S3 answers (ACLs are then enabled: the bucket behaves as ObjectWriter).
fn get_ownership_controls(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let rule = call.service.with_bucket(bucket, |b| Ok(b.ownership.clone()))?;
    let Some(rule) = rule else {
        return Err(AwsError::new(
            StatusCode::NOT_FOUND,
            "OwnershipControlsNotFoundError",
            "The bucket ownership controls were not found",
        )
        .with("BucketName", bucket));
    };
    let mut xml = XmlWriter::new();
    xml.open("OwnershipControls", Some(XMLNS))
        .open("Rule", None)
        .text("ObjectOwnership", &rule)
        .close("Rule")
        .close("OwnershipControls");
    Ok(rest_xml::ok(xml.finish()))
}

/// The ACL subresource of a bucket or object (GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl):
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketAcl.html>. Get answers the owner's
/// FULL_CONTROL grant (all a bucket with ACLs disabled has). Put with ACLs disabled (BucketOwnerEnforced)
/// accepts only `private` / `bucket-owner-full-control` without grants and otherwise answers 400
/// AccessControlListNotSupported, as S3 does. Deviation: with ACLs enabled (ObjectWriter,
/// BucketOwnerPreferred), PutBucketAcl/PutObjectAcl is 501 NotImplemented: ACLs are not stored or evaluated.
pub(super) fn acl(call: &Call<'_, S3>, bucket: &str, key: Option<&str>) -> AwsResult<Response> {
    let m = &call.req.method;
    let resource = arn(bucket, key);
    let (action, resource_type) = match (m, key) {
        (&Method::GET, None) => ("s3:GetBucketAcl", "BUCKET"),
        (&Method::PUT, None) => ("s3:PutBucketAcl", "BUCKET"),
        (&Method::GET, Some(_)) => ("s3:GetObjectAcl", "OBJECT"),
        (&Method::PUT, Some(_)) => ("s3:PutObjectAcl", "OBJECT"),
        _ => return Err(error::method_not_allowed(m, if key.is_some() { "OBJECT" } else { "BUCKET" })),
    };
    call.authorize_on(bucket, action, &resource)?;
    let (owner, disabled, exists) = call.service.with_bucket(bucket, |b| {
        Ok((b.owner.clone(), b.acls_disabled(), key.is_none_or(|k| b.objects.contains_key(k))))
    })?;
    if let (false, Some(key)) = (exists, key) {
        return Err(error::no_such_key(key));
    }
    if *m == Method::PUT {
        let body_grants = !call.req.body.iter().all(u8::is_ascii_whitespace);
        let canned = call.req.header("x-amz-acl");
        let header_grants = call.req.headers.keys().any(|n| n.as_str().starts_with("x-amz-grant-"));
        if !disabled {
            return Err(AwsError::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                format!("{resource_type} ACLs are not stored by crts-emulator; use a bucket policy"),
            ));
        }
        let owner_only = canned.is_none_or(|c| c == "private" || c == "bucket-owner-full-control");
        if header_grants
            || !owner_only
            || (body_grants && canned.is_none() && !owner_only_policy(&call.req.body, &owner))
        {
            return Err(super::objects::acl_not_supported());
        }
        return Ok(empty_with(StatusCode::OK, HeaderMap::new()));
    }
    let id = owner_id(&owner);
    let mut xml = XmlWriter::new();
    xml.open("AccessControlPolicy", Some(XMLNS)).open("Owner", None).text("ID", &id).close("Owner");
    xml.open("AccessControlList", None).open("Grant", None);
    xml.open_with_attrs(
        "Grantee",
        &[("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"), ("xsi:type", "CanonicalUser")],
    );
    xml.text("ID", &id).close("Grantee").text("Permission", "FULL_CONTROL").close("Grant");
    xml.close("AccessControlList").close("AccessControlPolicy");
    Ok(rest_xml::ok(xml.finish()))
}

/// Whether an AccessControlPolicy body grants only FULL_CONTROL to the bucket owner (what S3 accepts while ACLs
/// are disabled).
fn owner_only_policy(body: &[u8], owner: &str) -> bool {
    let Some(root) = crate::protocol::xml::parse(body) else { return false };
    let Some(list) = root.child("AccessControlList") else { return false };
    let id = owner_id(owner);
    list.children_named("Grant").all(|grant| {
        grant.child_text("Permission").map(str::trim) == Some("FULL_CONTROL")
            && grant.child("Grantee").and_then(|g| g.child_text("ID")).map(str::trim) == Some(id.as_str())
    })
}

/// CreateBucket: name rules, LocationConstraint against the endpoint's region, and AWS's answer for a bucket
/// that exists (yours: BucketAlreadyOwnedByYou, except the us-east-1 legacy 200; someone else's: BucketAlreadyExists).
fn create_bucket(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let caller = call.caller();
    match caller {
        crate::identity::Caller::Anonymous => return Err(error::access_denied()),
        crate::identity::Caller::Role(_) => call.role_may("s3:CreateBucket", &arn(bucket, None))?,
        crate::identity::Caller::Account { .. } => {}
    }
    validate_bucket_name(bucket)?;
    let region = call.region().to_owned();
    let constraint = if call.req.body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let root = parse_xml(&call.req.body)?;
        root.child_text("LocationConstraint").map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
    };
    match (&constraint, region.as_str()) {
        (Some(c), "us-east-1") if c == "us-east-1" => {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "InvalidLocationConstraint",
                "The specified location-constraint is not valid",
            )
            .with("LocationConstraint", c.as_str()));
        }
        (Some(c), r) if c != r && r != "us-east-1" => {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "IllegalLocationConstraintException",
                format!(
                    "The {c} location constraint is incompatible for the region specific endpoint this request was sent to."
                ),
            ));
        }
        (None, r) if r != "us-east-1" => {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "IllegalLocationConstraintException",
                "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.",
            ));
        }
        _ => {}
    }
    let bucket_region = constraint.unwrap_or_else(|| region.clone());
    let owner = call.account_id().to_owned();
    call.service.with_buckets(|buckets| match buckets.get(bucket) {
        Some(existing) if existing.owner != owner => Err(AwsError::new(
            StatusCode::CONFLICT,
            "BucketAlreadyExists",
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        )
        .with("BucketName", bucket)),
        Some(existing) if existing.region == "us-east-1" && region == "us-east-1" => Ok(()),
        Some(_) => Err(AwsError::new(
            StatusCode::CONFLICT,
            "BucketAlreadyOwnedByYou",
            "Your previous request to create the named bucket succeeded and you already own it.",
        )
        .with("BucketName", bucket)),
        None => {
            buckets.insert(bucket.to_owned(), Bucket::new(bucket.to_owned(), owner.clone(), bucket_region));
            Ok(())
        }
    })?;
    let mut response = empty_with(StatusCode::OK, HeaderMap::new());
    if let Ok(value) = format!("/{bucket}").parse() {
        response.headers_mut().insert(http::header::LOCATION, value);
    }
    Ok(response)
}

/// S3's bucket naming rules (general purpose buckets).
fn validate_bucket_name(name: &str) -> AwsResult<()> {
    let invalid = || {
        AwsError::new(StatusCode::BAD_REQUEST, "InvalidBucketName", "The specified bucket is not valid.")
            .with("BucketName", name)
    };
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len())
        || !bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        || !bytes[0].is_ascii_alphanumeric()
        || !bytes[bytes.len() - 1].is_ascii_alphanumeric()
        || name.contains("..")
        || name.parse::<std::net::Ipv4Addr>().is_ok()
        || name.starts_with("xn--")
        || name.ends_with("-s3alias")
    {
        return Err(invalid());
    }
    Ok(())
}

fn put_public_access_block(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let root = parse_xml(&call.req.body)?;
    if !root.is("PublicAccessBlockConfiguration") {
        return Err(error::malformed_xml());
    }
    let flag = |name: &str| -> AwsResult<bool> {
        match root.child_text(name).map(str::trim) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(error::malformed_xml()),
        }
    };
    let block = PublicAccessBlock {
        block_public_acls: flag("BlockPublicAcls")?,
        ignore_public_acls: flag("IgnorePublicAcls")?,
        block_public_policy: flag("BlockPublicPolicy")?,
        restrict_public_buckets: flag("RestrictPublicBuckets")?,
    };
    call.service.with_bucket(bucket, |b| {
        b.public_access_block = Some(block);
        Ok(())
    })?;
    Ok(empty_with(StatusCode::OK, HeaderMap::new()))
}

fn get_public_access_block(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let block = call.service.with_bucket(bucket, |b| {
        b.public_access_block.ok_or_else(|| {
            AwsError::new(
                StatusCode::NOT_FOUND,
                "NoSuchPublicAccessBlockConfiguration",
                "The public access block configuration was not found",
            )
            .with("BucketName", bucket)
        })
    })?;
    let mut xml = XmlWriter::new();
    xml.open("PublicAccessBlockConfiguration", Some(XMLNS))
        .text("BlockPublicAcls", &block.block_public_acls.to_string())
        .text("IgnorePublicAcls", &block.ignore_public_acls.to_string())
        .text("BlockPublicPolicy", &block.block_public_policy.to_string())
        .text("RestrictPublicBuckets", &block.restrict_public_buckets.to_string())
        .close("PublicAccessBlockConfiguration");
    Ok(rest_xml::ok(xml.finish()))
}

/// PutBucketPolicy: MalformedPolicy for a bad document; AccessDenied for a public one while BlockPublicPolicy.
fn put_policy(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let text = std::str::from_utf8(&call.req.body).map_err(|_| {
        AwsError::new(
            StatusCode::BAD_REQUEST,
            "MalformedPolicy",
            "Policies must be valid JSON and the first byte must be '{'",
        )
    })?;
    let policy = BucketPolicy::parse(text, bucket)
        .map_err(|message| AwsError::new(StatusCode::BAD_REQUEST, "MalformedPolicy", message))?;
    call.service.with_bucket(bucket, |b| {
        if policy.is_public() && b.block().block_public_policy {
            return Err(AwsError::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                format!(
                    "User: {} is not authorized to perform: s3:PutBucketPolicy on resource: \"arn:aws:s3:::{bucket}\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
                    call.req.ctx.caller.arn()
                ),
            ));
        }
        b.policy = Some(policy);
        Ok(())
    })?;
    Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
}

fn put_cors(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let rules = parse_cors(&call.req.body)?;
    call.service.with_bucket(bucket, |b| {
        b.cors = Some(rules);
        Ok(())
    })?;
    Ok(empty_with(StatusCode::OK, HeaderMap::new()))
}

/// The rules of a PutBucketCors body (`<CORSConfiguration><CORSRule>...`), each validated as S3 does.
pub(crate) fn parse_cors(body: &[u8]) -> AwsResult<Vec<CorsRule>> {
    let root = parse_xml(body)?;
    if !root.is("CORSConfiguration") {
        return Err(error::malformed_xml());
    }
    let mut rules = Vec::new();
    for node in root.children_named("CORSRule") {
        let max_age = match node.child_text("MaxAgeSeconds") {
            Some(text) => Some(text.trim().parse::<u32>().map_err(|_| error::malformed_xml())?),
            None => None,
        };
        let rule = CorsRule {
            id: node.child_text("ID").map(str::to_owned),
            allowed_origins: node.children_text("AllowedOrigin"),
            allowed_methods: node.children_text("AllowedMethod"),
            allowed_headers: node.children_text("AllowedHeader"),
            expose_headers: node.children_text("ExposeHeader"),
            max_age_seconds: max_age,
        };
        rule.validate()?;
        rules.push(rule);
    }
    if rules.is_empty() || rules.len() > 100 {
        return Err(error::malformed_xml());
    }
    Ok(rules)
}

fn get_cors(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let rules = call.service.with_bucket(bucket, |b| {
        b.cors.clone().ok_or_else(|| {
            AwsError::new(StatusCode::NOT_FOUND, "NoSuchCORSConfiguration", "The CORS configuration does not exist")
                .with("BucketName", bucket)
        })
    })?;
    Ok(rest_xml::ok(cors_xml(&rules)))
}

/// GetBucketCors's document for `rules`.
pub(crate) fn cors_xml(rules: &[CorsRule]) -> String {
    let mut xml = XmlWriter::new();
    xml.open("CORSConfiguration", Some(XMLNS));
    for rule in rules {
        xml.open("CORSRule", None);
        xml.opt_text("ID", rule.id.as_deref());
        for h in &rule.allowed_headers {
            xml.text("AllowedHeader", h);
        }
        for m in &rule.allowed_methods {
            xml.text("AllowedMethod", m);
        }
        for o in &rule.allowed_origins {
            xml.text("AllowedOrigin", o);
        }
        for e in &rule.expose_headers {
            xml.text("ExposeHeader", e);
        }
        xml.opt_text("MaxAgeSeconds", rule.max_age_seconds.map(|a| a.to_string()).as_deref());
        xml.close("CORSRule");
    }
    xml.close("CORSConfiguration");
    xml.finish()
}

fn put_website(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let website = parse_website(&call.req.body)?;
    call.service.with_bucket(bucket, |b| {
        b.website = Some(website);
        Ok(())
    })?;
    Ok(empty_with(StatusCode::OK, HeaderMap::new()))
}

/// The configuration of a PutBucketWebsite body (`<WebsiteConfiguration>...`), checked as S3 does.
pub(crate) fn parse_website(body: &[u8]) -> AwsResult<Website> {
    let root = parse_xml(body)?;
    if !root.is("WebsiteConfiguration") {
        return Err(error::malformed_xml());
    }
    let node = |name: &str| root.child(name);
    let website = if let Some(redirect) = node("RedirectAllRequestsTo") {
        let host = redirect.child_text("HostName").map(str::trim).filter(|h| !h.is_empty());
        let Some(host) = host else { return Err(error::malformed_xml()) };
        Website::RedirectAll {
            host: host.to_owned(),
            protocol: redirect.child_text("Protocol").map(|p| p.trim().to_owned()),
        }
    } else {
        let Some(index) = node("IndexDocument") else {
            return Err(error::invalid_argument(
                "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
            )
            .with("ArgumentName", "IndexDocument"));
        };
        let suffix = index.child_text("Suffix").map(str::trim).unwrap_or("");
        if suffix.is_empty() || suffix.contains('/') {
            return Err(error::invalid_argument("The IndexDocument Suffix is not well formed")
                .with("ArgumentName", "IndexDocument")
                .with("ArgumentValue", suffix));
        }
        let error_key = node("ErrorDocument").and_then(|e| e.child_text("Key")).map(|k| k.trim().to_owned());
        let routing_rules = node("RoutingRules").map(|r| {
            let range = r.range.clone();
            req_text(body)[range].to_owned()
        });
        Website::Site { index_suffix: suffix.to_owned(), error_key, routing_rules }
    };
    Ok(website)
}

/// PutBucketTagging: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketTagging.html>. The tag set
/// replaces the bucket's; keys must be unique.
fn put_tagging(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let root = parse_xml(&call.req.body)?;
    let tag_set = root.child("TagSet");
    let (true, Some(tag_set)) = (root.is("Tagging"), tag_set) else {
        return Err(error::malformed_xml());
    };
    let mut tags = crate::services::tagging::Tags::new();
    for tag in tag_set.children_named("Tag") {
        let (Some(key), value) = (tag.child_text("Key"), tag.child_text("Value").unwrap_or("")) else {
            return Err(error::malformed_xml());
        };
        if tags.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(AwsError::new(
                StatusCode::BAD_REQUEST,
                "InvalidTag",
                "Cannot provide multiple Tags with the same key",
            )
            .with("TagKey", key));
        }
    }
    crate::services::tagging::check(&Default::default(), &tags)
        .map_err(|e| AwsError::new(StatusCode::BAD_REQUEST, "InvalidTag", e))?;
    call.service.with_bucket(bucket, |b| {
        b.tags = Some(tags);
        Ok(())
    })?;
    Ok(empty_with(StatusCode::NO_CONTENT, HeaderMap::new()))
}

/// GetBucketTagging: <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketTagging.html>
fn get_tagging(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let tags = call.service.with_bucket(bucket, |b| {
        b.tags.clone().ok_or_else(|| {
            AwsError::new(StatusCode::NOT_FOUND, "NoSuchTagSet", "The TagSet does not exist").with("BucketName", bucket)
        })
    })?;
    let mut xml = XmlWriter::new();
    xml.open("Tagging", Some(XMLNS)).open("TagSet", None);
    for (key, value) in &tags {
        xml.open("Tag", None).text("Key", key).text("Value", value).close("Tag");
    }
    xml.close("TagSet").close("Tagging");
    Ok(rest_xml::ok(xml.finish()))
}

fn req_text(body: &[u8]) -> &str {
    std::str::from_utf8(body).unwrap_or("")
}

fn get_website(call: &Call<'_, S3>, bucket: &str) -> AwsResult<Response> {
    let website =
        call.service.with_bucket(bucket, |b| b.website.clone().ok_or_else(|| no_such_website_configuration(bucket)))?;
    Ok(rest_xml::ok(website_xml(&website)))
}

/// GetBucketWebsite's document for `website` (RoutingRules as they were sent).
pub(crate) fn website_xml(website: &Website) -> String {
    let mut out = XmlWriter::new();
    out.open("WebsiteConfiguration", Some(XMLNS));
    let mut tail = String::new();
    match website {
        Website::RedirectAll { host, protocol } => {
            out.open("RedirectAllRequestsTo", None).text("HostName", host).opt_text("Protocol", protocol.as_deref());
            out.close("RedirectAllRequestsTo");
        }
        Website::Site { index_suffix, error_key, routing_rules } => {
            out.open("IndexDocument", None).text("Suffix", index_suffix).close("IndexDocument");
            if let Some(key) = error_key {
                out.open("ErrorDocument", None).text("Key", key).close("ErrorDocument");
            }
            if let Some(rules) = routing_rules {
                tail.push_str(rules);
            }
        }
    }
    let mut xml = out.finish();
    xml.push_str(&tail);
    xml.push_str("</WebsiteConfiguration>");
    xml
}

pub fn no_such_website_configuration(bucket: &str) -> AwsError {
    AwsError::new(
        StatusCode::NOT_FOUND,
        "NoSuchWebsiteConfiguration",
        "The specified bucket does not have a website configuration",
    )
    .with("BucketName", bucket)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for ok in ["cris-swagger-bucket", "a.b-c", "abc", "x1"] {
            if ok.len() >= 3 {
                assert!(validate_bucket_name(ok).is_ok(), "{ok}");
            }
        }
        for bad in ["ab", "Upper", "-lead", "trail-", "a..b", "192.168.1.1", "under_score", "xn--abc"] {
            assert_eq!(validate_bucket_name(bad).expect_err("refused").code, "InvalidBucketName", "{bad}");
        }
    }
}
