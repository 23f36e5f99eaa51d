//! What ECR keeps: repositories per (account, region), their images (manifests by digest, tags), and the
//! registry's blobs, stored once by digest and linked to the repositories that pushed or mounted them.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use bytes::Bytes;

/// One registry: an account's repositories in one region, and their content.
#[derive(Debug, Default)]
pub struct Registry {
    pub repositories: BTreeMap<String, Repository>,
    /// Blob digest → bytes, shared by the repositories that link it.
    pub blobs: HashMap<String, Bytes>,
}

#[derive(Debug, Clone)]
pub struct Repository {
    pub name: String,
    pub arn: String,
    pub registry_id: String,
    pub uri: String,
    /// Seconds since the epoch (ECR's timestamps are epoch seconds).
    pub created_at: f64,
    pub tag_mutability: String,
    pub scan_on_push: bool,
    /// Manifest digest → image.
    pub images: BTreeMap<String, Image>,
    /// Tag → manifest digest.
    pub tags: BTreeMap<String, String>,
    /// Blobs this repository may serve.
    pub blobs: BTreeSet<String>,
    /// The repository's resource tags (TagResource), not to be confused with image `tags`.
    pub resource_tags: crate::services::tagging::Tags,
}

#[derive(Debug, Clone)]
pub struct Image {
    pub digest: String,
    pub manifest: Bytes,
    pub media_type: String,
    /// The config's media type for artifacts (what ECR reports as artifactMediaType).
    pub artifact_media_type: Option<String>,
    pub pushed_at: f64,
    /// Sum of the layers' sizes, as ECR's imageSizeInBytes.
    pub size: u64,
}

impl Repository {
    /// The tags pointing at a manifest, sorted.
    pub fn tags_of(&self, digest: &str) -> Vec<String> {
        self.tags.iter().filter(|(_, d)| *d == digest).map(|(t, _)| t.clone()).collect()
    }

    /// The indexes (manifest lists) in this repository that name the manifest `digest`: it cannot go while they
    /// are there.
    pub fn indexes_referencing(&self, digest: &str) -> Vec<String> {
        self.images
            .values()
            .filter(|image| references(&image.manifest).is_ok_and(|r| r.manifests.iter().any(|m| m == digest)))
            .map(|image| image.digest.clone())
            .collect()
    }
}

/// Media types the registry accepts for manifests.
pub const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
];

/// What a manifest references: blobs (config and layers) or other manifests (an index), and the layers' size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    pub blobs: Vec<String>,
    pub manifests: Vec<String>,
    pub layer_size: u64,
    pub media_type: Option<String>,
    pub config_media_type: Option<String>,
}

/// Reads the references out of a manifest (Docker schema 2 or OCI, image or index).
pub fn references(manifest: &[u8]) -> Result<References, String> {
    let value: serde_json::Value =
        serde_json::from_slice(manifest).map_err(|e| format!("the manifest is not valid JSON: {e}"))?;
    if value["schemaVersion"] != 2 {
        return Err("only schemaVersion 2 manifests are supported".to_owned());
    }
    let mut refs = References { media_type: value["mediaType"].as_str().map(str::to_owned), ..Default::default() };
    let digest = |d: &serde_json::Value| d["digest"].as_str().map(str::to_owned).ok_or("a descriptor has no digest");
    if let Some(manifests) = value["manifests"].as_array() {
        for m in manifests {
            refs.manifests.push(digest(m)?);
        }
        return Ok(refs);
    }
    let config = value.get("config").ok_or("the manifest has neither config nor manifests")?;
    refs.blobs.push(digest(config)?);
    refs.config_media_type = config["mediaType"].as_str().map(str::to_owned);
    for layer in value["layers"].as_array().into_iter().flatten() {
        refs.blobs.push(digest(layer)?);
        // Sizes are the client's claims: their sum saturates rather than overflowing (a panic in a debug build).
        refs.layer_size = refs.layer_size.saturating_add(layer["size"].as_u64().unwrap_or(0));
    }
    Ok(refs)
}

/// `sha256:<hex>` of bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// Repository names as ECR accepts them (botocore's `RepositoryName`): 2 to 256 characters, `/`-separated
/// components of lowercase letters and digits joined by `.`, `_`, `__` or a run of `-`.
pub fn valid_repository_name(name: &str) -> bool {
    let alphanumeric = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let component = |part: &str| {
        let bytes = part.as_bytes();
        let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else { return false };
        alphanumeric(first)
            && alphanumeric(last)
            && part
                .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .all(|separator| matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-'))
    };
    (2..=256).contains(&name.len()) && name.split('/').all(component)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_botocores_pattern() {
        for name in ["crts", "team/crts", "a.b", "a_b", "a__b", "a-b", "a---b", "ns/sub/crts-2", "team/crts-job_1.0"] {
            assert!(valid_repository_name(name), "{name} is valid");
        }
        for name in ["c", "Crts", "-crts", "crts-", "a..b", "a___b", "a.-b", "a_-b", "a//b", "/crts", "crts/", "a b"] {
            assert!(!valid_repository_name(name), "{name} is invalid");
        }
    }

    #[test]
    fn references_of_image_manifests_and_indexes() {
        let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:c","size":10},
            "layers":[{"digest":"sha256:a","size":100},{"digest":"sha256:b","size":23}]}"#;
        let refs = references(manifest).expect("valid");
        assert_eq!(refs.blobs, ["sha256:c", "sha256:a", "sha256:b"]);
        assert_eq!(refs.layer_size, 123);
        let index = br#"{"schemaVersion":2,"manifests":[{"digest":"sha256:m1"},{"digest":"sha256:m2"}]}"#;
        assert_eq!(references(index).expect("valid").manifests, ["sha256:m1", "sha256:m2"]);
        assert!(references(b"{}").is_err());
    }

    /// Found with the `ecr_manifest` fuzz target (a hand-written input; the fuzzer did not reach a 20-digit size
    /// in 60 s): layer sizes whose sum overflows u64 panicked with "attempt to add with overflow" in a debug build
    /// (and wrapped in a release one) on PUT /v2/<name>/manifests/<reference>.
    #[test]
    fn layer_sizes_that_overflow_saturate() {
        let manifest = br#"{"schemaVersion":2,"config":{"digest":"sha256:a"},
            "layers":[{"digest":"sha256:b","size":18446744073709551615},{"digest":"sha256:c","size":1}]}"#;
        assert_eq!(references(manifest).expect("valid").layer_size, u64::MAX);
    }
}
