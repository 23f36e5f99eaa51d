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
    /// PutBucketVersioning's state; `None` for a bucket that was never versioned.
    pub versioning: Option<Versioning>,
    /// Per key, its noncurrent versions and delete markers, oldest first. When the key has no current object in
    /// `objects`, the last entry (a delete marker) is the key's latest version.
    pub history: BTreeMap<String, Vec<Version>>,
    /// Uploads completed lately, by upload id, so that a retried CompleteMultipartUpload gets its answer again
    /// (at most [`MAX_COMPLETED`], for [`COMPLETED_TTL_SECONDS`]).
    pub completed: BTreeMap<String, CompletedUpload>,
    /// PutBucketOwnershipControls's rule: `BucketOwnerEnforced` (AWS's default since April 2023) until changed;
    /// `None` after DeleteBucketOwnershipControls (ACLs enabled, as ObjectWriter).
    pub ownership: Option<String>,
}

/// How many completed uploads a bucket remembers for retries, and for how long.
pub const MAX_COMPLETED: usize = 1000;
pub const COMPLETED_TTL_SECONDS: i64 = 3600;
/// How many noncurrent versions and delete markers a key keeps: beyond that the oldest go, as a lifecycle rule
/// with NewerNoncurrentVersions would remove them (a bound on memory; S3 itself keeps every version).
pub const MAX_NONCURRENT_VERSIONS: usize = 1000;
/// The version id of objects written while versioning was never enabled, or is suspended.
pub const NULL_VERSION: &str = "null";

/// A bucket's versioning state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    Enabled,
    Suspended,
}

impl Versioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Suspended => "Suspended",
        }
    }
}

/// A noncurrent version of a key, or a delete marker.
#[derive(Debug, Clone)]
pub enum Version {
    Object(Object),
    DeleteMarker { version_id: String, last_modified: DateTime<Utc> },
}

impl Version {
    pub fn version_id(&self) -> &str {
        match self {
            Self::Object(object) => &object.version_id,
            Self::DeleteMarker { version_id, .. } => version_id,
        }
    }

    pub fn last_modified(&self) -> DateTime<Utc> {
        match self {
            Self::Object(object) => object.last_modified,
            Self::DeleteMarker { last_modified, .. } => *last_modified,
        }
    }
}

/// What a delete did: the version it removed or the delete marker it made (`None`: the bucket is not
/// versioned), and whether that version is a delete marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub version_id: Option<String>,
    pub delete_marker: bool,
}

/// A completed multipart upload, kept so a retried CompleteMultipartUpload is answered as the first was.
#[derive(Debug, Clone)]
pub struct CompletedUpload {
    pub key: String,
    pub completed: DateTime<Utc>,
    /// The parts it was completed with: number and ETag.
    pub parts: Vec<(u32, String)>,
    pub etag: String,
    pub checksum: Option<(String, String)>,
    pub version_id: Option<String>,
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
            versioning: None,
            history: BTreeMap::new(),
            completed: BTreeMap::new(),
            ownership: Some("BucketOwnerEnforced".to_owned()),
        }
    }

    /// Whether ACLs are disabled: Object Ownership is BucketOwnerEnforced (the default).
    pub fn acls_disabled(&self) -> bool {
        self.ownership.as_deref() == Some("BucketOwnerEnforced")
    }

    /// Whether DeleteBucket may delete the bucket: no object, no noncurrent version, no delete marker.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.history.is_empty()
    }

    /// Stores `object` as the current version of `key`, as the bucket's versioning state says: replacing the
    /// current object (never versioned), keeping it as a noncurrent version under a new version id (Enabled), or
    /// replacing the key's `null` version (Suspended). Returns the version id to answer with (`None` when the
    /// bucket was never versioned).
    pub fn put(&mut self, key: &str, mut object: Object) -> Option<String> {
        let version_id = match self.versioning {
            None => {
                object.version_id = NULL_VERSION.to_owned();
                self.objects.insert(key.to_owned(), object);
                return None;
            }
            Some(Versioning::Enabled) => new_version_id(),
            Some(Versioning::Suspended) => NULL_VERSION.to_owned(),
        };
        self.retire_current(key);
        object.version_id = version_id.clone();
        self.objects.insert(key.to_owned(), object);
        Some(version_id)
    }

    /// DeleteObject without a version id: removes the object (never versioned), or puts a delete marker on top
    /// (Enabled: a new version id; Suspended: the `null` version, replacing any other `null` version).
    pub fn delete_current(&mut self, key: &str) -> Deleted {
        let version_id = match self.versioning {
            None => {
                self.objects.remove(key);
                return Deleted { version_id: None, delete_marker: false };
            }
            Some(Versioning::Enabled) => new_version_id(),
            Some(Versioning::Suspended) => NULL_VERSION.to_owned(),
        };
        self.retire_current(key);
        let marker = Version::DeleteMarker { version_id: version_id.clone(), last_modified: Utc::now() };
        self.history.entry(key.to_owned()).or_default().push(marker);
        Deleted { version_id: Some(version_id), delete_marker: true }
    }

    /// Moves the current object of `key` among its noncurrent versions; under Suspended, the key's `null`
    /// version (current or not) is dropped instead, since the write about to happen replaces it.
    fn retire_current(&mut self, key: &str) {
        let suspended = self.versioning == Some(Versioning::Suspended);
        let current = self.objects.remove(key);
        let history = self.history.entry(key.to_owned()).or_default();
        if suspended {
            history.retain(|v| v.version_id() != NULL_VERSION);
        }
        if let Some(current) = current.filter(|c| !(suspended && c.version_id == NULL_VERSION)) {
            history.push(Version::Object(current));
        }
        if history.len() > MAX_NONCURRENT_VERSIONS {
            let excess = history.len() - MAX_NONCURRENT_VERSIONS;
            history.drain(..excess);
        }
        if history.is_empty() {
            self.history.remove(key);
        }
    }

    /// DeleteObject with a version id: removes that version for good (the next newest object becomes current
    /// when the current one goes). `None` when the key has no such version.
    pub fn delete_version(&mut self, key: &str, version_id: &str) -> Option<Deleted> {
        let removed = if self.objects.get(key).is_some_and(|o| o.version_id == version_id) {
            self.objects.remove(key);
            false
        } else {
            let history = self.history.get_mut(key)?;
            let at = history.iter().position(|v| v.version_id() == version_id)?;
            matches!(history.remove(at), Version::DeleteMarker { .. })
        };
        if !self.objects.contains_key(key)
            && let Some(history) = self.history.get_mut(key)
        {
            if matches!(history.last(), Some(Version::Object(_)))
                && let Some(Version::Object(newest)) = history.pop()
            {
                self.objects.insert(key.to_owned(), newest);
            }
            if history.is_empty() {
                self.history.remove(key);
            }
        }
        Some(Deleted { version_id: Some(version_id.to_owned()), delete_marker: removed })
    }

    /// The version `version_id` of `key`, current or not.
    pub fn version(&self, key: &str, version_id: &str) -> Option<Version> {
        if let Some(current) = self.objects.get(key).filter(|o| o.version_id == version_id) {
            return Some(Version::Object(current.clone()));
        }
        self.history.get(key)?.iter().find(|v| v.version_id() == version_id).cloned()
    }

    /// The delete marker that is `key`'s latest version, if it is one.
    pub fn latest_delete_marker(&self, key: &str) -> Option<&str> {
        if self.objects.contains_key(key) {
            return None;
        }
        match self.history.get(key)?.last()? {
            Version::DeleteMarker { version_id, .. } => Some(version_id),
            Version::Object(_) => None,
        }
    }

    /// Every version of `key`, newest first, with whether it is the latest.
    pub fn versions_of<'a>(&'a self, key: &str) -> impl Iterator<Item = (bool, Version)> + 'a {
        let current = self.objects.get(key).map(|o| Version::Object(o.clone()));
        let older = self.history.get(key).into_iter().flat_map(|h| h.iter().rev().cloned());
        current.into_iter().chain(older).enumerate().map(|(i, v)| (i == 0, v))
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
    /// Whether the key had a current object when the upload was created: a conditional CompleteMultipartUpload
    /// finding it deleted since answers 409 ConditionalRequestConflict, as S3 does after a conflicting delete.
    pub key_existed: bool,
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
    /// [`NULL_VERSION`] unless written while versioning was enabled.
    pub version_id: String,
}

/// A new version id: 32 characters of letters and digits, as S3's are.
pub fn new_version_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Whether `id` could be a version id at all (`null`, or one this emulator hands out); S3 answers anything else
/// with 400 InvalidArgument "Invalid version id specified".
pub fn is_version_id(id: &str) -> bool {
    id == NULL_VERSION || (id.len() == 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
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
