//! Amazon ECR: the control plane on awsJson1.1 ([`api`]) and an OCI Distribution (registry v2) API on the same
//! listener ([`registry`]), sharing one store ([`model`]), so what is pushed through the registry shows in
//! DescribeImages and what PutImage stores can be pulled.
//!
//! Registry hosts: `{account}.dkr.ecr.{region}.localhost.localstack.cloud:PORT`, `{account}.dkr.ecr.{region}.
//! amazonaws.com` (Host header) and plain `localhost:PORT` / `127.0.0.1:PORT`, where the account and region are
//! those of the ECR token the client logged in with.

pub mod api;
pub mod model;
pub mod registry;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use model::Registry;

/// How long a GetAuthorizationToken token is valid (12 hours, as on AWS).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(12 * 3600);

/// The ECR service of one emulator instance.
#[derive(Debug, Default)]
pub struct Ecr {
    registries: crate::store::Scoped<(String, String), Registry>,
    /// Issued registry passwords → (account, region, expiry in epoch seconds).
    tokens: Mutex<HashMap<String, (String, String, f64)>>,
    /// Blob uploads in progress: upload id → upload.
    uploads: Mutex<HashMap<String, registry::Upload>>,
}

impl crate::services::Service for Ecr {
    const IAM_PREFIX: &'static str = "ecr";
    const PROTOCOL: crate::services::iam::Protocol = crate::services::iam::Protocol::Json;
}

impl Ecr {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `f` on the registry of (account, region). The lock is never held across an `.await`.
    pub fn with_registry<T>(&self, account: &str, region: &str, f: impl FnOnce(&mut Registry) -> T) -> T {
        self.registries.with((account.to_owned(), region.to_owned()), f)
    }

    /// Every repository of one account and region with its resource tags (for the Resource Groups Tagging API).
    pub fn tagged(&self, account: &str, region: &str) -> Vec<crate::services::tagging::Tagged> {
        self.with_registry(account, region, |registry| {
            let repositories = registry.repositories.values();
            repositories
                .map(|r| crate::services::tagging::Tagged { arn: r.arn.clone(), tags: r.resource_tags.clone() })
                .collect()
        })
    }

    /// Why Batch (or anything that pulls) cannot pull `image`, when it names a repository of this emulator
    /// (`<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]`) without that tag or digest, in the
    /// words AWS's Fargate agent uses; `None` when it is there or lives in another registry.
    pub fn pull_error(&self, image: &str) -> Option<String> {
        let host = image.split_once('/')?.0;
        let (account, region, repository, reference) = parse_image(image)?;
        let found = self.manifest_digest_of(&account, &region, &repository, &reference).is_some();
        (!found).then(|| {
            format!(
                "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref {image}: {host}/{repository}:{reference}: not found"
            )
        })
    }

    /// The manifest digest an image of this emulator's registry names (its tag's, or the digest it gives), if the
    /// registry holds it.
    pub fn manifest_digest(&self, image: &str) -> Option<String> {
        let (account, region, repository, reference) = parse_image(image)?;
        self.manifest_digest_of(&account, &region, &repository, &reference)
    }

    fn manifest_digest_of(&self, account: &str, region: &str, repository: &str, reference: &str) -> Option<String> {
        self.registries.read((account.to_owned(), region.to_owned()), |registry| {
            let repository = registry?.repositories.get(repository)?;
            repository
                .tags
                .get(reference)
                .cloned()
                .or_else(|| repository.images.contains_key(reference).then(|| reference.to_owned()))
        })
    }

    /// Issues a registry password for (account, region).
    pub fn issue_token(&self, account: &str, region: &str) -> (String, f64) {
        let token = crate::identity::random_alnum(64);
        let expires = now() + TOKEN_LIFETIME.as_secs_f64();
        let mut tokens = crate::store::lock(&self.tokens);
        tokens.retain(|_, (_, _, expiry)| *expiry > now());
        tokens.insert(token.clone(), (account.to_owned(), region.to_owned(), expires));
        (token, expires)
    }

    /// The (account, region) a valid, unexpired password was issued for.
    pub fn check_token(&self, token: &str) -> Option<(String, String)> {
        let tokens = crate::store::lock(&self.tokens);
        tokens.get(token).filter(|(_, _, expiry)| *expiry > now()).map(|(a, r, _)| (a.clone(), r.clone()))
    }

    fn uploads(&self) -> std::sync::MutexGuard<'_, HashMap<String, registry::Upload>> {
        crate::store::lock(&self.uploads)
    }
}

/// `<account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest]` as (account, region, repository,
/// reference): `repo`, `repo:tag`, `repo@digest` or `repo:tag@digest` (the digest decides; no tag is `latest`).
fn parse_image(image: &str) -> Option<(String, String, String, String)> {
    let (host, path) = image.split_once('/')?;
    let (account, rest) = host.split_once(".dkr.ecr.")?;
    let region = rest.strip_suffix(".amazonaws.com")?;
    let (named, digest) = match path.split_once('@') {
        Some((named, digest)) => (named, Some(digest)),
        None => (path, None),
    };
    let (repository, tag) = named.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')).unwrap_or((named, "latest"));
    Some((account.to_owned(), region.to_owned(), repository.to_owned(), digest.unwrap_or(tag).to_owned()))
}

/// Seconds since the Unix epoch, with milliseconds.
pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| (d.as_millis() as f64) / 1000.0)
}
