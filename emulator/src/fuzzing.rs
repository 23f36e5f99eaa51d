//! Entry points for the fuzz targets (`fuzz/`, `scripts/fuzz`): the parsers of request data that are private
//! to their service, re-exported as they are. Not an API: nothing else calls these.

use crate::protocol::{AwsRequest, AwsResult};
use crate::services::s3::cors::CorsRule;
use crate::services::s3::model::Website;

/// The rules of a PutBucketCors body, as S3 validates them.
pub fn s3_cors(body: &[u8]) -> AwsResult<Vec<CorsRule>> {
    crate::services::s3::buckets::parse_cors(body)
}

/// GetBucketCors's document for `rules`.
pub fn s3_cors_xml(rules: &[CorsRule]) -> String {
    crate::services::s3::buckets::cors_xml(rules)
}

/// The configuration of a PutBucketWebsite body.
pub fn s3_website(body: &[u8]) -> AwsResult<Website> {
    crate::services::s3::buckets::parse_website(body)
}

/// GetBucketWebsite's document for `website`.
pub fn s3_website_xml(website: &Website) -> String {
    crate::services::s3::buckets::website_xml(website)
}

/// The `(part number, ETag)`s a CompleteMultipartUpload body names.
pub fn s3_complete_multipart(body: &[u8]) -> AwsResult<Vec<(u32, String)>> {
    crate::services::s3::multipart::named_parts(body)
        .map(|parts| parts.into_iter().map(|p| (p.number, p.etag)).collect())
}

/// UploadPart's `partNumber` query parameter.
pub fn s3_part_number(value: Option<&str>) -> AwsResult<u32> {
    crate::services::s3::multipart::part_number(value)
}

/// API Gateway's `patchOperations` of an Update* request body, as `(op, path, value)`.
pub fn apigateway_patch(req: &AwsRequest) -> AwsResult<Vec<(String, String, Option<String>)>> {
    crate::services::apigateway::patch::operations(req)
        .map(|ops| ops.into_iter().map(|op| (op.op, op.path, op.value)).collect())
}

/// A patch path's key under `prefix` (`~1` is `/`, `~0` is `~`).
pub fn apigateway_patch_key(path: &str, prefix: &str) -> Option<String> {
    let op =
        crate::services::apigateway::patch::PatchOp { op: "replace".to_owned(), path: path.to_owned(), value: None };
    op.key_under(prefix)
}
