//! ECR's control plane (awsJson1.1, `X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.<Operation>`).
//!
//! <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_Operations.html>

use base64::Engine as _;
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::model::{Image, MANIFEST_TYPES, Registry, Repository, digest_of, references, valid_repository_name};
use super::{Ecr, now};
use crate::protocol::json::{self as json_protocol, parse};
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response};
use crate::services::tagging::{self, Tags};
use crate::services::{Authorize, Call, pagination};

pub const TARGET_PREFIX: &str = "AmazonEC2ContainerRegistry_V20150921";

/// Serves one ECR control-plane request.
pub async fn handle(ecr: &Ecr, iam: &dyn Authorize, req: AwsRequest) -> Response {
    match dispatch(ecr, iam, &req) {
        Ok(output) => json_protocol::ok(&output),
        Err(err) => json_protocol::error(&err),
    }
}

/// One `match` from `X-Amz-Target`'s operation to its handler, which takes the call and the decoded input.
fn dispatch(ecr: &Ecr, iam: &dyn Authorize, req: &AwsRequest) -> AwsResult<Value> {
    let operation = json_protocol::operation(req, TARGET_PREFIX)?;
    let input = json_protocol::input_value(req)?;
    let call = Call { service: ecr, req, iam, operation };
    match operation {
        "CreateRepository" => create_repository(&call, parse(input)?),
        "DescribeRepositories" => describe_repositories(&call, parse(input)?),
        "DeleteRepository" => delete_repository(&call, parse(input)?),
        "GetAuthorizationToken" => get_authorization_token(&call),
        "DescribeImages" => describe_images(&call, parse(input)?),
        "ListImages" => list_images(&call, parse(input)?),
        "BatchGetImage" => batch_get_image(&call, parse(input)?),
        "PutImage" => put_image(&call, parse(input)?),
        "BatchDeleteImage" => batch_delete_image(&call, parse(input)?),
        "TagResource" => tag_resource(&call, parse(input)?),
        "UntagResource" => untag_resource(&call, parse(input)?),
        "ListTagsForResource" => list_tags_for_resource(&call, parse(input)?),
        other => Err(AwsError::bad_request(
            "UnknownOperationException",
            format!("crts-emulator does not implement the ECR operation {other}"),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepositoryInput {
    repository_name: Option<String>,
    registry_id: Option<String>,
    #[serde(default)]
    image_tag_mutability: Option<String>,
    #[serde(default)]
    image_scanning_configuration: Option<Value>,
    #[serde(default)]
    force: bool,
    #[serde(default)]
    repository_names: Option<Vec<String>>,
    #[serde(default)]
    tags: Option<Vec<TagInput>>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted; every repository is encrypted with AES256")]
    encryption_configuration: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ImagesInput {
    repository_name: Option<String>,
    registry_id: Option<String>,
    #[serde(default)]
    image_ids: Option<Vec<ImageId>>,
    #[serde(default)]
    filter: Option<Value>,
    #[serde(default)]
    image_manifest: Option<String>,
    #[serde(default)]
    image_manifest_media_type: Option<String>,
    #[serde(default)]
    image_tag: Option<String>,
    #[serde(default)]
    image_digest: Option<String>,
    #[serde(default)]
    #[allow(dead_code, reason = "accepted; manifests are returned as stored")]
    accepted_media_types: Option<Vec<String>>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct ImageId {
    #[serde(skip_serializing_if = "Option::is_none")]
    image_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image_tag: Option<String>,
}

/// ECR's side of every operation: its registry in the caller's account and region, and its errors.
impl Call<'_, Ecr> {
    fn repository_arn(&self, name: &str) -> String {
        format!("arn:aws:ecr:{}:{}:repository/{name}", self.region(), self.account_id())
    }

    /// The registry the request addresses: `registryId` must be the caller's account when given.
    fn check_registry(&self, registry_id: Option<&String>) -> AwsResult<()> {
        match registry_id {
            Some(id) if *id != self.account_id() => Err(AwsError::bad_request(
                "InvalidParameterException",
                format!(
                    "Invalid parameter at 'registryId' failed to satisfy constraint: 'the registry {id} is not the caller's account {}'",
                    self.account_id()
                ),
            )),
            _ => Ok(()),
        }
    }

    /// ECR's paging ([`pagination`]): `maxResults` 1-1000 (default 100) and `nextToken`, refused as
    /// InvalidParameterException. Neither may come with an explicit list (`repositoryNames`, `imageIds`), which is
    /// answered whole.
    /// One page of `items` as ECR answers it: the page under `member`, `nextToken` when there is more.
    fn page_of<T: serde::Serialize>(
        &self,
        member: &str,
        items: Vec<(String, T)>,
        max_results: Option<i64>,
        next_token: Option<&String>,
        explicit_list: Option<&str>,
    ) -> AwsResult<Value> {
        let page = self.page(items, max_results, next_token, explicit_list)?;
        let mut out = json!({ member: page.items });
        if let Some(next) = page.next {
            out["nextToken"] = json!(next);
        }
        Ok(out)
    }

    fn page<T>(
        &self,
        items: Vec<(String, T)>,
        max_results: Option<i64>,
        next_token: Option<&String>,
        explicit_list: Option<&str>,
    ) -> AwsResult<pagination::Page<T>> {
        let invalid = |message: String| AwsError::bad_request("InvalidParameterException", message);
        if let Some(list) = explicit_list {
            let member = if max_results.is_some() { "maxResults" } else { "nextToken" };
            if max_results.is_some() || next_token.is_some() {
                return Err(invalid(format!(
                    "Invalid parameter at '{member}' failed to satisfy constraint: '{member} cannot be used with {list}'"
                )));
            }
            let everything = pagination::PageSize { default: usize::MAX, max: usize::MAX };
            return pagination::page(items, everything, None, None).map_err(|e| invalid(e.validation_message(list)));
        }
        let size = pagination::PageSize { default: 100, max: 1000 };
        pagination::page(items, size, max_results, next_token.map(String::as_str)).map_err(|e| match e {
            pagination::PageError::Token => {
                invalid("Invalid parameter at 'nextToken' failed to satisfy constraint: 'Invalid NextToken'".to_owned())
            }
            limit => invalid(limit.validation_message("maxResults")),
        })
    }

    fn with_registry<T>(&self, f: impl FnOnce(&mut Registry) -> AwsResult<T>) -> AwsResult<T> {
        self.service.with_registry(self.account_id(), self.region(), f)
    }

    fn not_found(&self, name: &str) -> AwsError {
        AwsError::bad_request(
            "RepositoryNotFoundException",
            format!("The repository with name '{name}' does not exist in the registry with id '{}'", self.account_id()),
        )
    }

    /// `imageIds`, which BatchGetImage and BatchDeleteImage require.
    fn image_ids(&self, input: &ImagesInput) -> AwsResult<Vec<ImageId>> {
        input.image_ids.clone().ok_or_else(|| {
            AwsError::bad_request(
                "InvalidParameterException",
                "1 validation error detected: Value null at 'imageIds' failed to satisfy constraint: Member must not be null",
            )
        })
    }

    fn required<'s>(&self, value: Option<&'s String>, member: &str) -> AwsResult<&'s str> {
        value.map(String::as_str).filter(|v| !v.is_empty()).ok_or_else(|| {
            AwsError::bad_request("InvalidParameterException", format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"))
        })
    }

    /// Runs `f` on the resource tags of the repository `arn` names (in this call's account and region).
    fn with_repository_tags<T>(&self, arn: Option<&String>, f: impl FnOnce(&mut Tags) -> AwsResult<T>) -> AwsResult<T> {
        let arn = self.required(arn, "resourceArn")?;
        let prefix = format!("arn:aws:ecr:{}:{}:repository/", self.region(), self.account_id());
        let name = arn.strip_prefix(&prefix).ok_or_else(|| {
            AwsError::bad_request(
                "InvalidParameterException",
                format!("Invalid parameter at 'resourceArn' failed to satisfy constraint: 'Invalid ARN {arn}'"),
            )
        })?;
        self.with_registry(|registry| match registry.repositories.get_mut(name) {
            Some(repository) => f(&mut repository.resource_tags),
            None => Err(self.not_found(name)),
        })
    }

    fn repository_name(&self, input: &ImagesInput) -> AwsResult<String> {
        self.check_registry(input.registry_id.as_ref())?;
        Ok(self.required(input.repository_name.as_ref(), "repositoryName")?.to_owned())
    }

    /// Finds the manifest digest an imageId names (tag, digest, or both, which must agree).
    fn resolve(&self, repository: &Repository, id: &ImageId) -> Result<String, (&'static str, &'static str)> {
        let by_tag = id.image_tag.as_ref().map(|t| repository.tags.get(t));
        match (&id.image_digest, by_tag) {
            (None, None) => {
                Err(("MissingDigestAndTag", "Invalid request parameters: both tag and digest cannot be null"))
            }
            (Some(digest), None) => repository
                .images
                .contains_key(digest)
                .then(|| digest.clone())
                .ok_or(("ImageNotFound", "Requested image not found")),
            (None, Some(found)) => found.cloned().ok_or(("ImageNotFound", "Requested image not found")),
            (Some(digest), Some(found)) => match found {
                Some(d) if d == digest => Ok(d.clone()),
                Some(_) => {
                    Err(("ImageTagDoesNotMatchDigest", "Invalid request parameters: given tag and digest do not match"))
                }
                None => Err(("ImageNotFound", "Requested image not found")),
            },
        }
    }

    fn image_not_found(&self, name: &str, id: &ImageId) -> AwsError {
        AwsError::bad_request(
            "ImageNotFoundException",
            format!(
                "The image with imageId {{imageDigest:'{}', imageTag:'{}'}} does not exist within the repository with name '{name}' in the registry with id '{}'",
                id.image_digest.as_deref().unwrap_or("null"),
                id.image_tag.as_deref().unwrap_or("null"),
                self.account_id()
            ),
        )
    }
}

fn create_repository(call: &Call<'_, Ecr>, input: RepositoryInput) -> AwsResult<Value> {
    call.check_registry(input.registry_id.as_ref())?;
    let name = call.required(input.repository_name.as_ref(), "repositoryName")?.to_owned();
    call.authorize(&[call.repository_arn(&name)])?;
    if !valid_repository_name(&name) {
        return Err(AwsError::bad_request(
            "InvalidParameterException",
            "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*''",
        ));
    }
    let mutability = input.image_tag_mutability.unwrap_or_else(|| "MUTABLE".to_owned());
    if !matches!(mutability.as_str(), "MUTABLE" | "IMMUTABLE") {
        return Err(AwsError::bad_request(
            "InvalidParameterException",
            "Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'",
        ));
    }
    let scan_on_push =
        input.image_scanning_configuration.as_ref().and_then(|c| c["scanOnPush"].as_bool()).unwrap_or(false);
    let resource_tags = checked_tags(&Tags::new(), input.tags.unwrap_or_default())?;
    if !resource_tags.is_empty() {
        call.authorize_action("TagResource", &[call.repository_arn(&name)])?;
    }
    let repository = Repository {
        arn: call.repository_arn(&name),
        registry_id: call.account_id().to_owned(),
        uri: format!("{}.dkr.ecr.{}.amazonaws.com/{name}", call.account_id(), call.region()),
        created_at: now(),
        tag_mutability: mutability,
        scan_on_push,
        images: Default::default(),
        tags: Default::default(),
        blobs: Default::default(),
        resource_tags,
        name: name.clone(),
    };
    let view = repository_view(&repository);
    call.with_registry(|registry| {
        if registry.repositories.contains_key(&name) {
            return Err(AwsError::bad_request(
                "RepositoryAlreadyExistsException",
                format!(
                    "The repository with name '{name}' already exists in the registry with id '{}'",
                    call.account_id()
                ),
            ));
        }
        registry.repositories.insert(name.clone(), repository);
        Ok(())
    })?;
    Ok(json!({ "repository": view }))
}

fn describe_repositories(call: &Call<'_, Ecr>, input: RepositoryInput) -> AwsResult<Value> {
    call.check_registry(input.registry_id.as_ref())?;
    call.authorize(&[format!("arn:aws:ecr:{}:{}:repository/*", call.region(), call.account_id())])?;
    let repositories = call.with_registry(|registry| match &input.repository_names {
        Some(names) => names
            .iter()
            .enumerate()
            .map(|(i, name)| match registry.repositories.get(name) {
                Some(found) => Ok((pagination::number(i64::try_from(i).unwrap_or(i64::MAX)), repository_view(found))),
                None => Err(call.not_found(name)),
            })
            .collect::<AwsResult<Vec<_>>>(),
        None => Ok(registry.repositories.iter().map(|(name, r)| (name.clone(), repository_view(r))).collect()),
    })?;
    let explicit = input.repository_names.as_ref().map(|_| "repositoryNames");
    call.page_of("repositories", repositories, input.max_results, input.next_token.as_ref(), explicit)
}

fn delete_repository(call: &Call<'_, Ecr>, input: RepositoryInput) -> AwsResult<Value> {
    call.check_registry(input.registry_id.as_ref())?;
    let name = call.required(input.repository_name.as_ref(), "repositoryName")?.to_owned();
    call.authorize(&[call.repository_arn(&name)])?;
    let removed = call.with_registry(|registry| {
        let repository = registry.repositories.get(&name).ok_or_else(|| call.not_found(&name))?;
        if !repository.images.is_empty() && !input.force {
            return Err(AwsError::bad_request(
                "RepositoryNotEmptyException",
                format!("The repository with name '{name}' in registry with id '{}' cannot be deleted because it still contains images", call.account_id()),
            ));
        }
        let removed = registry.repositories.remove(&name).ok_or_else(|| call.not_found(&name))?;
        // Blobs no repository links any more are freed.
        let linked: std::collections::BTreeSet<&String> =
            registry.repositories.values().flat_map(|r| r.blobs.iter()).collect();
        let unused: Vec<String> = registry.blobs.keys().filter(|d| !linked.contains(d)).cloned().collect();
        for digest in unused {
            registry.blobs.remove(&digest);
        }
        Ok(removed)
    })?;
    Ok(json!({ "repository": repository_view(&removed) }))
}

/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_TagResource.html>
fn tag_resource(call: &Call<'_, Ecr>, input: TagsInput) -> AwsResult<Value> {
    let arn = call.required(input.resource_arn.as_ref(), "resourceArn")?;
    call.authorize(&[arn.to_owned()])?;
    let new = input.tags.ok_or_else(|| {
        AwsError::bad_request(
            "InvalidParameterException",
            "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
        )
    })?;
    call.with_repository_tags(input.resource_arn.as_ref(), |tags| {
        let new = checked_tags(tags, new)?;
        tags.extend(new);
        Ok(json!({}))
    })
}

/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UntagResource.html>
fn untag_resource(call: &Call<'_, Ecr>, input: TagsInput) -> AwsResult<Value> {
    let arn = call.required(input.resource_arn.as_ref(), "resourceArn")?;
    call.authorize(&[arn.to_owned()])?;
    let keys = input.tag_keys.ok_or_else(|| {
        AwsError::bad_request("InvalidParameterException", "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
    })?;
    call.with_repository_tags(input.resource_arn.as_ref(), |tags| {
        for key in &keys {
            tags.remove(key);
        }
        Ok(json!({}))
    })
}

/// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ListTagsForResource.html>
fn list_tags_for_resource(call: &Call<'_, Ecr>, input: TagsInput) -> AwsResult<Value> {
    let arn = call.required(input.resource_arn.as_ref(), "resourceArn")?;
    call.authorize(&[arn.to_owned()])?;
    let tags = call.with_repository_tags(input.resource_arn.as_ref(), |tags| Ok(tags.clone()))?;
    Ok(json!({ "tags": tag_list(&tags) }))
}

fn get_authorization_token(call: &Call<'_, Ecr>) -> AwsResult<Value> {
    call.authorize(&["*".to_owned()])?;
    let (token, expires) = call.service.issue_token(call.account_id(), call.region());
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("AWS:{token}"));
    let port = call.req.ctx.endpoint.rsplit(':').next().unwrap_or("4566");
    Ok(json!({ "authorizationData": [{
        "authorizationToken": encoded,
        "expiresAt": expires,
        // Where `docker login` can reach this emulator's registry (Docker allows plain HTTP to localhost).
        "proxyEndpoint": format!("http://localhost:{port}"),
    }]}))
}

fn describe_images(call: &Call<'_, Ecr>, input: ImagesInput) -> AwsResult<Value> {
    let name = call.repository_name(&input)?;
    call.authorize(&[call.repository_arn(&name)])?;
    let tag_status = input.filter.as_ref().and_then(|f| f["tagStatus"].as_str()).unwrap_or("ANY").to_owned();
    call.with_registry(|registry| {
        let repository = registry.repositories.get(&name).ok_or_else(|| call.not_found(&name))?;
        let digests: Vec<String> = match &input.image_ids {
            Some(ids) => ids
                .iter()
                .map(|id| call.resolve(repository, id).map_err(|_| call.image_not_found(&name, id)))
                .collect::<AwsResult<_>>()?,
            None => repository.images.keys().cloned().collect(),
        };
        let explicit = input.image_ids.is_some();
        let details: Vec<(String, Value)> = digests
            .iter()
            .filter_map(|d| repository.images.get(d))
            .filter(|image| tag_filter(&tag_status, !repository.tags_of(&image.digest).is_empty()))
            .map(|image| {
                let mut detail = json!({
                    "registryId": repository.registry_id,
                    "repositoryName": repository.name,
                    "imageDigest": image.digest,
                    "imageSizeInBytes": image.size,
                    "imagePushedAt": image.pushed_at,
                    "imageManifestMediaType": image.media_type,
                });
                let tags = repository.tags_of(&image.digest);
                if !tags.is_empty() {
                    detail["imageTags"] = json!(tags);
                }
                if let Some(artifact) = &image.artifact_media_type {
                    detail["artifactMediaType"] = json!(artifact);
                }
                detail
            })
            .enumerate()
            // An explicit list is served in the request's order, everything else by digest.
            .map(|(i, detail)| {
                let key = match (explicit, detail["imageDigest"].as_str()) {
                    (false, Some(digest)) => digest.to_owned(),
                    _ => pagination::number(i64::try_from(i).unwrap_or(i64::MAX)),
                };
                (key, detail)
            })
            .collect();
        let explicit = explicit.then_some("imageIds");
        call.page_of("imageDetails", details, input.max_results, input.next_token.as_ref(), explicit)
    })
}

fn list_images(call: &Call<'_, Ecr>, input: ImagesInput) -> AwsResult<Value> {
    let name = call.repository_name(&input)?;
    call.authorize(&[call.repository_arn(&name)])?;
    let tag_status = input.filter.as_ref().and_then(|f| f["tagStatus"].as_str()).unwrap_or("ANY").to_owned();
    call.with_registry(|registry| {
        let repository = registry.repositories.get(&name).ok_or_else(|| call.not_found(&name))?;
        let mut ids = Vec::new();
        for digest in repository.images.keys() {
            let tags = repository.tags_of(digest);
            if !tag_filter(&tag_status, !tags.is_empty()) {
                continue;
            }
            if tags.is_empty() {
                ids.push((pagination::key(&[digest]), json!({ "imageDigest": digest })));
            }
            for tag in tags {
                ids.push((pagination::key(&[digest, &tag]), json!({ "imageDigest": digest, "imageTag": tag })));
            }
        }
        call.page_of("imageIds", ids, input.max_results, input.next_token.as_ref(), None)
    })
}

fn batch_get_image(call: &Call<'_, Ecr>, input: ImagesInput) -> AwsResult<Value> {
    let name = call.repository_name(&input)?;
    call.authorize(&[call.repository_arn(&name)])?;
    let ids = call.image_ids(&input)?;
    call.with_registry(|registry| {
        let repository = registry.repositories.get(&name).ok_or_else(|| call.not_found(&name))?;
        let (mut images, mut failures) = (Vec::new(), Vec::new());
        for id in &ids {
            match call.resolve(repository, id) {
                Ok(digest) => {
                    let image = &repository.images[&digest];
                    images.push(json!({
                        "registryId": repository.registry_id,
                        "repositoryName": repository.name,
                        "imageId": { "imageDigest": digest, "imageTag": id.image_tag },
                        "imageManifest": String::from_utf8_lossy(&image.manifest),
                        "imageManifestMediaType": image.media_type,
                    }));
                }
                Err((code, reason)) => {
                    failures.push(json!({ "imageId": id, "failureCode": code, "failureReason": reason }))
                }
            }
        }
        Ok(json!({ "images": images, "failures": failures }))
    })
}

fn put_image(call: &Call<'_, Ecr>, input: ImagesInput) -> AwsResult<Value> {
    let name = call.repository_name(&input)?;
    call.authorize(&[call.repository_arn(&name)])?;
    let manifest = call.required(input.image_manifest.as_ref(), "imageManifest")?.to_owned();
    let stored = store_manifest(
        call.service,
        call.account_id(),
        call.region(),
        &name,
        Bytes::from(manifest.clone()),
        input.image_manifest_media_type.as_deref(),
        input.image_tag.as_deref(),
        input.image_digest.as_deref(),
        false,
    )?;
    Ok(json!({ "image": {
        "registryId": call.account_id(),
        "repositoryName": name,
        "imageId": { "imageDigest": stored.digest, "imageTag": input.image_tag },
        "imageManifest": manifest,
        "imageManifestMediaType": stored.media_type,
    }}))
}

fn batch_delete_image(call: &Call<'_, Ecr>, input: ImagesInput) -> AwsResult<Value> {
    let name = call.repository_name(&input)?;
    call.authorize(&[call.repository_arn(&name)])?;
    let ids = call.image_ids(&input)?;
    call.with_registry(|registry| {
        let repository = registry.repositories.get_mut(&name).ok_or_else(|| call.not_found(&name))?;
        let (mut deleted, mut failures) = (Vec::new(), Vec::new());
        for id in &ids {
            match call.resolve(repository, id) {
                Ok(digest) => {
                    // Deleting by tag removes the tag; the image goes when no tag is left, unless an index
                    // still names it, which refuses the whole deletion.
                    let goes = id.image_tag.is_none() || repository.tags_of(&digest).len() == 1;
                    let indexes = repository.indexes_referencing(&digest);
                    if goes && !indexes.is_empty() {
                        failures.push(json!({
                            "imageId": id,
                            "failureCode": "ImageReferencedByManifestList",
                            "failureReason": format!("Requested image referenced by manifest list: {indexes:?}"),
                        }));
                        continue;
                    }
                    match &id.image_tag {
                        Some(tag) => {
                            repository.tags.remove(tag);
                        }
                        None => repository.tags.retain(|_, d| *d != digest),
                    }
                    if goes {
                        repository.images.remove(&digest);
                    }
                    deleted.push(json!({ "imageDigest": digest, "imageTag": id.image_tag }));
                }
                Err((code, reason)) => {
                    failures.push(json!({ "imageId": id, "failureCode": code, "failureReason": reason }))
                }
            }
        }
        Ok(json!({ "imageIds": deleted, "failures": failures }))
    })
}

fn tag_filter(status: &str, tagged: bool) -> bool {
    match status {
        "TAGGED" => tagged,
        "UNTAGGED" => !tagged,
        _ => true,
    }
}

/// ECR's tag shape: `{"Key": ..., "Value": ...}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    key: String,
    #[serde(default)]
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagsInput {
    resource_arn: Option<String>,
    tags: Option<Vec<TagInput>>,
    tag_keys: Option<Vec<String>>,
}

/// New tags, checked against AWS's rules given the ones a repository has (ECR's own error codes).
fn checked_tags(existing: &Tags, new: Vec<TagInput>) -> AwsResult<Tags> {
    let new: Tags = new.into_iter().map(|t| (t.key, t.value)).collect();
    tagging::check(existing, &new).map_err(|e| {
        let code = if e.contains("at most") { "TooManyTagsException" } else { "InvalidTagParameterException" };
        AwsError::bad_request(code, e)
    })?;
    Ok(new)
}

fn tag_list(tags: &Tags) -> Vec<Value> {
    tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect()
}

fn repository_view(repository: &Repository) -> Value {
    json!({
        "repositoryArn": repository.arn,
        "registryId": repository.registry_id,
        "repositoryName": repository.name,
        "repositoryUri": repository.uri,
        "createdAt": repository.created_at,
        "imageTagMutability": repository.tag_mutability,
        "imageScanningConfiguration": { "scanOnPush": repository.scan_on_push },
        "encryptionConfiguration": { "encryptionType": "AES256" },
    })
}

/// Stores a manifest in a repository, as PutImage and a registry manifest PUT both do: the media type is taken
/// from the request or the manifest, every referenced blob or manifest must exist, tags follow mutability.
#[allow(clippy::too_many_arguments, reason = "one call per wire form; a struct would only rename the arguments")]
pub(crate) fn store_manifest(
    ecr: &Ecr,
    account: &str,
    region: &str,
    repository_name: &str,
    manifest: Bytes,
    media_type: Option<&str>,
    tag: Option<&str>,
    expected_digest: Option<&str>,
    from_registry: bool,
) -> AwsResult<Image> {
    let refs = references(&manifest).map_err(|e| {
        AwsError::bad_request(
            "InvalidParameterException",
            format!("Invalid parameter at 'imageManifest' failed to satisfy constraint: '{e}'"),
        )
    })?;
    // Without a declared type, the shape tells: OCI allows an index or image manifest to omit `mediaType`.
    let media_type = media_type.map(str::to_owned).or_else(|| refs.media_type.clone()).unwrap_or_else(|| {
        if !refs.manifests.is_empty() {
            "application/vnd.oci.image.index.v1+json".to_owned()
        } else if refs.config_media_type.as_deref() == Some("application/vnd.oci.image.config.v1+json") {
            "application/vnd.oci.image.manifest.v1+json".to_owned()
        } else {
            "application/vnd.docker.distribution.manifest.v2+json".to_owned()
        }
    });
    if !MANIFEST_TYPES.contains(&media_type.as_str()) {
        return Err(AwsError::bad_request(
            "InvalidParameterException",
            format!(
                "Invalid parameter at 'imageManifestMediaType' failed to satisfy constraint: 'the media type {media_type} is not supported'"
            ),
        ));
    }
    let digest = digest_of(&manifest);
    if let Some(expected) = expected_digest
        && expected != digest
    {
        return Err(AwsError::bad_request(
            "ImageDigestDoesNotMatchException",
            format!(
                "Invalid parameter at 'imageDigest' failed to satisfy constraint: 'the digest {expected} does not match the manifest's digest {digest}'"
            ),
        ));
    }
    ecr.with_registry(account, region, |registry| {
        let repository = registry.repositories.get_mut(repository_name).ok_or_else(|| {
            AwsError::bad_request(
                "RepositoryNotFoundException",
                format!("The repository with name '{repository_name}' does not exist in the registry with id '{account}'"),
            )
        })?;
        let missing: Vec<&String> = refs.blobs.iter().filter(|d| !repository.blobs.contains(*d)).collect();
        if !missing.is_empty() {
            return Err(AwsError::bad_request(
                "LayersNotFoundException",
                format!(
                    "Layers with digests '{missing:?}' required for pushing image into repository with name '{repository_name}' in the registry with id '{account}' do not exist"
                ),
            ));
        }
        if let Some(missing) = refs.manifests.iter().find(|d| !repository.images.contains_key(*d)) {
            return Err(AwsError::bad_request(
                "ReferencedImagesNotFoundException",
                format!("The image {missing} referenced by the index does not exist in the repository '{repository_name}'"),
            ));
        }
        if let Some(tag) = tag {
            match repository.tags.get(tag) {
                // PutImage refuses a no-op; a registry push of the same image simply succeeds.
                Some(existing) if *existing == digest && !from_registry => {
                    return Err(AwsError::bad_request(
                        "ImageAlreadyExistsException",
                        format!("Image with digest '{digest}' and tag '{tag}' already exists in the repository with name '{repository_name}' in registry with id '{account}'"),
                    ));
                }
                Some(existing) if *existing != digest && repository.tag_mutability == "IMMUTABLE" => {
                    return Err(AwsError::bad_request(
                        "ImageTagAlreadyExistsException",
                        format!("The image tag '{tag}' already exists in the '{repository_name}' repository and cannot be overwritten because the repository is immutable."),
                    ));
                }
                _ => {}
            }
        }
        let image = Image {
            digest: digest.clone(),
            manifest: manifest.clone(),
            media_type: media_type.clone(),
            artifact_media_type: refs.config_media_type.clone(),
            pushed_at: now(),
            size: refs.layer_size,
        };
        let image = repository.images.entry(digest.clone()).or_insert(image).clone();
        if let Some(tag) = tag {
            repository.tags.insert(tag.to_owned(), digest.clone());
        }
        Ok(image)
    })
}
