//! What S3 keeps: buckets, their objects and their configuration (Block Public Access, policy, CORS, website).

use std::collections::BTreeMap;

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::bucket_policy::BucketPolicy;
use super::cors::CorsRule;

/// One bucket. Bucket names are global, as on AWS; `owner` is the account that created it.
#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    pub owner: String,
    pub region: String,
    pub created: DateTime<Utc>,
    pub objects: BTreeMap<String, Object>,
    /// `None` after DeletePublicAccessBlock; new buckets start with all four settings on (AWS, since April 2023).
    pub public_access_block: Option<PublicAccessBlock>,
    pub policy: Option<BucketPolicy>,
    pub cors: Option<Vec<CorsRule>>,
    pub website: Option<Website>,
    /// Multipart uploads in progress, by upload id.
    pub uploads: BTreeMap<String, MultipartUpload>,
    /// The bucket's tag set (PutBucketTagging); `None` until one is put, or after DeleteBucketTagging.
    pub tags: Option<crate::services::tagging::Tags>,
}

impl Bucket {
    pub fn new(name: String, owner: String, region: String) -> Self {
        Self {
            name,
            owner,
            region,
            created: Utc::now(),
            objects: BTreeMap::new(),
            public_access_block: Some(PublicAccessBlock::all_on()),
            policy: None,
            cors: None,
            website: None,
            uploads: BTreeMap::new(),
            tags: None,
        }
    }

    /// The bucket's Block Public Access settings in effect (absent configuration = all off).
    pub fn block(&self) -> PublicAccessBlock {
        self.public_access_block.unwrap_or_default()
    }
}

/// A multipart upload in progress: the object it will become (everything but the bytes) and its parts.
#[derive(Debug, Clone)]
pub struct MultipartUpload {
    pub key: String,
    pub initiated: DateTime<Utc>,
    /// The object's metadata, from CreateMultipartUpload; its body and ETag come from the parts.
    pub object: Object,
    /// `x-amz-checksum-algorithm` of CreateMultipartUpload, lower-case (`crc32`...).
    pub checksum_algorithm: Option<String>,
    pub parts: BTreeMap<u32, Part>,
}

/// One uploaded part.
#[derive(Debug, Clone)]
pub struct Part {
    pub body: Bytes,
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    /// `(algorithm, base64 value)` as verified on upload.
    pub checksum: Option<(String, String)>,
}

/// An object: its bytes and the metadata S3 returns with them.
#[derive(Debug, Clone)]
pub struct Object {
    pub body: Bytes,
    /// `"<md5 hex>"`, quotes included, as S3 sends it.
    pub etag: String,
    pub last_modified: DateTime<Utc>,
    pub content_type: String,
    /// Content-Encoding, Content-Disposition, Cache-Control, Content-Language, Expires as sent.
    pub standard_headers: Vec<(String, String)>,
    /// `x-amz-meta-*` user metadata, names lower-cased without the prefix.
    pub metadata: BTreeMap<String, String>,
    /// The checksum the client sent (`crc32`, value base64), returned when a client asks with
    /// `x-amz-checksum-mode: ENABLED`.
    pub checksum: Option<(String, String)>,
}

/// Block Public Access: the four switches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublicAccessBlock {
    pub block_public_acls: bool,
    pub ignore_public_acls: bool,
    pub block_public_policy: bool,
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    pub fn all_on() -> Self {
        Self {
            block_public_acls: true,
            ignore_public_acls: true,
            block_public_policy: true,
            restrict_public_buckets: true,
        }
    }
}

/// Static website hosting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Website {
    Site {
        index_suffix: String,
        error_key: Option<String>,
        /// RoutingRules as sent (returned by GetBucketWebsite; not applied by the website endpoint).
        routing_rules: Option<String>,
    },
    RedirectAll {
        host: String,
        protocol: Option<String>,
    },
}
