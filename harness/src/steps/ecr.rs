//! "AWS Elastic Container Registry" and "Dockerfile": the `crts` repository, then the CRTS image built and pushed
//! as `<repositoryUri>:latest` (with Docker when an engine answers, else with the built-in builder; see
//! [`crate::image`]).

use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, RunbookStep, Settings, StepError, optional};
use crate::image::{self, RegistryLogin};
use crate::package::{Entry, Package, write_entries};
use crate::verify::{Expect, Expected};

/// Creates a private repository.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepository {
    pub name: String,
}

impl Settings for CreateRepository {}

impl RunbookStep for CreateRepository {
    const READS: &'static [&'static str] = &["ecr:DescribeRepositories"];
    const CHANGES: &'static [&'static str] =
        &["ecr:CreateRepository", "ecr:TagResource", "ecr:ListTagsForResource", "ecr:DeleteRepository"];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let tags = ctx.tags().map(|tags| {
            tags.into_iter()
                .filter_map(|(k, v)| aws_sdk_ecr::types::Tag::builder().key(k).value(v).build().ok())
                .collect()
        });
        ctx.ecr
            .create_repository()
            .repository_name(&self.name)
            .set_tags(tags)
            .send()
            .await
            .map_err(|e| StepError::sdk("CreateRepository", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let described = ctx
            .ecr
            .describe_repositories()
            .repository_names(&self.name)
            .send()
            .await
            .map_err(|e| StepError::sdk("DescribeRepositories", e))?;
        let repository = described
            .repositories()
            .first()
            .ok_or_else(|| StepError::missing(format!("DescribeRepositories does not show {}", self.name)))?;
        Ok(Observed::from([
            ("repository".into(), json!(repository.repository_name())),
            ("uri".into(), json!(repository.repository_uri())),
            ("tag_mutability".into(), json!(repository.image_tag_mutability().map(|m| m.as_str()))),
        ]))
    }

    /// The URI the runbook notes (the job definition names it); tag mutability is not the runbook's.
    async fn expected(&self, ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("repository".into(), Expect::is(&self.name)),
            ("uri".into(), Expect::is(format!("{}/{}", ctx.target.ecr_registry(), self.name))),
        ]))
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("ECR repository {}", self.name)]
    }

    /// Deletes the repository with its images (`force`).
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let described = ctx.ecr.describe_repositories().repository_names(&self.name).send().await;
        let Some(described) = optional("DescribeRepositories", described)? else { return Ok(Vec::new()) };
        let Some(arn) = described.repositories().first().and_then(|r| r.repository_arn()) else {
            return Ok(Vec::new());
        };
        let listed = ctx.ecr.list_tags_for_resource().resource_arn(arn).send().await;
        let listed = listed.map_err(|e| StepError::sdk("ListTagsForResource", e))?;
        ctx.ensure_owned(&format!("ECR repository {}", self.name), listed.tags().iter().map(|t| (t.key(), t.value())))?;
        remove_repository(ctx, &self.name).await
    }
}

/// Deletes a repository with its images (`force`).
pub(crate) async fn remove_repository(ctx: &RunContext, name: &str) -> Result<Vec<String>, StepError> {
    let deleted = ctx.ecr.delete_repository().repository_name(name).force(true).send().await;
    let deleted = optional("DeleteRepository", deleted)?;
    Ok(deleted.map(|_| format!("ECR repository {name} (with its images)")).into_iter().collect())
}

/// Which way to build: `auto` (Docker when an engine answers), `docker`, or `built-in`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Builder {
    #[default]
    Auto,
    Docker,
    BuiltIn,
}

/// Builds the image from a context (a folder, or the runbook's "docker package" `.zip`) and pushes it to the
/// repository as `tag`.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildAndPush {
    pub repository: String,
    /// A folder or `.zip` holding the Dockerfile (at its root, or in its one top folder).
    pub context: PathBuf,
    #[serde(default = "default_tag")]
    pub tag: String,
    /// The runbook's local name (`docker build -t crts`).
    #[serde(default = "default_local_tag")]
    pub local_tag: String,
    /// The name under which the CRTS job binary this harness carries ([`image::job_binary`]) is added to the
    /// context, when the Dockerfile copies a file of that name that the context does not have.
    #[serde(default)]
    pub job_binary: Option<String>,
    /// `CRTS_IMAGE_BUILDER` overrides it.
    #[serde(default)]
    pub builder: Builder,
}

fn default_tag() -> String {
    "latest".into()
}

fn default_local_tag() -> String {
    "crts".into()
}

impl Settings for BuildAndPush {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        let package = Package::open(base_dir, &self.context).map_err(|e| format!("with.context: {e}"))?;
        package.root_of("Dockerfile").map_err(|e| format!("with.context: {e}"))?;
        self.context = package.path().to_path_buf();
        Ok(())
    }
}

impl BuildAndPush {
    /// Writes the context's files into `dir`, plus the job binary when the Dockerfile asks for it.
    fn stage_context(&self, dir: &Path, ctx: &mut RunContext) -> Result<(), String> {
        let package = Package::open(Path::new(""), &self.context)?;
        let entries = package.entries_around("Dockerfile")?;
        write_entries(&entries, dir)?;
        let Some(name) = &self.job_binary else { return Ok(()) };
        if entries.iter().any(|e| &e.path == name) {
            return Ok(());
        }
        let dockerfile = std::fs::read_to_string(dir.join("Dockerfile")).map_err(|e| format!("Dockerfile: {e}"))?;
        let copied = image::dockerfile::copied_sources(&dockerfile);
        if copied.iter().any(|source| source == name) {
            let job = Entry { path: name.clone(), data: image::job_binary()?.to_vec(), executable: true };
            write_entries(&[job], dir)?;
            ctx.notes.push(format!("{name}: the CRTS job binary built with this harness (crate crts-job, static)"));
        }
        Ok(())
    }

    fn builder(&self) -> Result<Builder, StepError> {
        match std::env::var("CRTS_IMAGE_BUILDER").ok().as_deref() {
            None | Some("") => Ok(self.builder),
            Some("auto") => Ok(Builder::Auto),
            Some("docker") => Ok(Builder::Docker),
            Some("built-in") => Ok(Builder::BuiltIn),
            Some(other) => {
                Err(StepError::unexpected(format!("CRTS_IMAGE_BUILDER={other}: use auto, docker or built-in")))
            }
        }
    }
}

impl RunbookStep for BuildAndPush {
    const READS: &'static [&'static str] = &["ecr:DescribeRepositories", "ecr:DescribeImages"];
    const CHANGES: &'static [&'static str] = &[
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ];
    const UPDATABLE: bool = true;

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.context]
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let login = registry_login(ctx).await?;
        // Fails early, before building, when the repository is not there.
        repository_uri(ctx, &self.repository).await?;
        let staged =
            tempfile::tempdir().map_err(|e| StepError::unexpected(format!("cannot create a build context: {e}")))?;
        self.stage_context(staged.path(), ctx).map_err(StepError::unexpected)?;

        let (use_docker, why) = match self.builder()? {
            Builder::Docker => (true, "asked for"),
            Builder::BuiltIn => (false, "asked for"),
            Builder::Auto if image::docker_available().await => (true, "a Docker engine answered"),
            Builder::Auto => (false, "no Docker engine answered"),
        };
        let digest = if use_docker {
            ctx.notes.push(format!(
                "built and pushed with Docker ({why}): docker build -t {}, docker tag, docker login, docker push {}/{}:{}",
                self.local_tag, login.host, self.repository, self.tag
            ));
            image::push_docker(staged.path(), &self.local_tag, &login, &self.repository, &self.tag)
                .await
                .map_err(StepError::unexpected)?
        } else {
            let built = image::build(staged.path()).map_err(StepError::unexpected)?;
            ctx.notes.push(format!(
                "built without Docker ({why}): an OCI image from the Dockerfile's COPY/ENTRYPOINT/CMD/ENV/WORKDIR, pushed with oci-client"
            ));
            for line in &built.not_applied {
                ctx.notes.push(format!("not applied: {line}"));
            }
            image::push_oci(&built, &login, &self.repository, &self.tag).await.map_err(StepError::unexpected)?
        };

        let described = self.observe(ctx).await?;
        if described.get("digest").and_then(|d| d.as_str()) != Some(digest.as_str()) {
            return Err(StepError::unexpected(format!(
                "the registry reported {digest} for the push, DescribeImages shows {}",
                described.get("digest").and_then(|d| d.as_str()).unwrap_or("nothing")
            )));
        }
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let uri = repository_uri(ctx, &self.repository).await?;
        let images = ctx
            .ecr
            .describe_images()
            .repository_name(&self.repository)
            .image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(&self.tag).build())
            .send()
            .await
            .map_err(|e| StepError::sdk("DescribeImages", e))?;
        let detail = images.image_details().first().ok_or_else(|| {
            StepError::missing(format!("DescribeImages does not show {}:{}", self.repository, self.tag))
        })?;
        Ok(Observed::from([
            ("image".into(), json!(format!("{uri}:{}", self.tag))),
            ("digest".into(), json!(detail.image_digest())),
            ("tags".into(), json!(detail.image_tags())),
        ]))
    }

    /// The tag pushed to the repository; the digest depends on the build.
    async fn expected(&self, ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("image".into(), Expect::is(format!("{}/{}:{}", ctx.target.ecr_registry(), self.repository, self.tag))),
            ("tags".into(), Expect::includes([&self.tag])),
        ]))
    }
}

/// The repository's URI, as DescribeRepositories gives it.
async fn repository_uri(ctx: &RunContext, repository: &str) -> Result<String, StepError> {
    let described = ctx
        .ecr
        .describe_repositories()
        .repository_names(repository)
        .send()
        .await
        .map_err(|e| StepError::sdk("DescribeRepositories", e))?;
    described
        .repositories()
        .first()
        .and_then(|r| r.repository_uri())
        .map(str::to_owned)
        .ok_or_else(|| StepError::unexpected(format!("repository {repository} has no URI")))
}

/// The registry and the login GetAuthorizationToken gives (user `AWS`, a 12-hour password).
pub(crate) async fn registry_login(ctx: &RunContext) -> Result<RegistryLogin, StepError> {
    let token =
        ctx.ecr.get_authorization_token().send().await.map_err(|e| StepError::sdk("GetAuthorizationToken", e))?;
    let data = token
        .authorization_data()
        .first()
        .ok_or_else(|| StepError::unexpected("GetAuthorizationToken returned no authorization data"))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data.authorization_token().unwrap_or_default())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| StepError::unexpected("the authorization token is not base64 of user:password"))?;
    let (username, password) =
        decoded.split_once(':').ok_or_else(|| StepError::unexpected("the authorization token is not user:password"))?;
    let endpoint = data.proxy_endpoint().unwrap_or_default();
    let (http, host) = match endpoint.split_once("://") {
        Some(("http", host)) => (true, host),
        Some((_, host)) => (false, host),
        None => (false, endpoint),
    };
    Ok(RegistryLogin {
        host: host.trim_end_matches('/').to_owned(),
        http,
        username: username.to_owned(),
        password: password.to_owned(),
    })
}
