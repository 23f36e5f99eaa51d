//! image: the Batch job definition's image resolves to a manifest pushed to the ECR repository under the
//! expected tag: the URI is the repository's, DescribeImages knows the tag, and the registry serves the same
//! manifest (its bytes hash to the digest ECR reports).

use sha2::Digest as _;

use super::settings::Section;
use super::{Check, CheckSettings, Observation, Skip};
use crate::context::RunContext;
use crate::targets::capabilities::Capability;

pub struct Image;

impl Check for Image {
    const REQUIRES: &'static [Capability] = &[Capability::Ecr, Capability::Batch];
    const NEEDS: &'static [Section] = &[Section::Image];

    fn iam_actions(_trigger_job: bool) -> &'static [&'static str] {
        &[
            "batch:DescribeJobDefinitions",
            "ecr:DescribeRepositories",
            "ecr:DescribeImages",
            "ecr:GetAuthorizationToken",
            "ecr:BatchGetImage",
        ]
    }

    async fn run(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
        Ok(observe(ctx, settings).await)
    }
}

async fn observe(ctx: &RunContext, settings: &CheckSettings) -> Vec<Observation> {
    let Some(image) = &settings.image else {
        return vec![Observation::new("settings", "image settings", "missing", false)];
    };
    let mut out = Vec::new();

    let definitions = ctx.batch.describe_job_definitions().job_definitions(&image.job_definition).send().await;
    let uri = match definitions {
        Ok(d) => d
            .job_definitions()
            .first()
            .and_then(|j| j.container_properties())
            .and_then(|c| c.image())
            .map(str::to_owned),
        Err(e) => {
            let e = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
            return vec![Observation::new("job definition", image.job_definition.clone(), e, false)];
        }
    };
    let Some(uri) = uri else {
        return vec![Observation::new(
            "job definition image",
            "an image",
            format!("{} has none", image.job_definition),
            false,
        )];
    };
    let repository = ctx.ecr.describe_repositories().repository_names(&image.repository).send().await;
    let repository_uri = match repository {
        Ok(r) => r.repositories().first().and_then(|r| r.repository_uri()).unwrap_or_default().to_owned(),
        Err(e) => {
            let e = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
            return vec![Observation::new("repository", image.repository.clone(), e, false)];
        }
    };
    let expected = format!("{repository_uri}:{}", image.tag);
    out.push(Observation::new("job definition image", expected.clone(), uri.clone(), uri == expected));

    // The tag the job definition names, as ECR knows it.
    // (`host:port/crts` has no tag: a colon before the last `/` is the port's.)
    let tag = uri.rsplit_once(':').filter(|(_, t)| !t.contains('/')).map_or("latest", |(_, t)| t).to_owned();
    let described = ctx
        .ecr
        .describe_images()
        .repository_name(&image.repository)
        .image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(&tag).build())
        .send()
        .await;
    let digest = match described {
        Ok(d) => d.image_details().first().and_then(|i| i.image_digest()).map(str::to_owned),
        Err(e) => {
            use aws_smithy_types::error::metadata::ProvideErrorMetadata as _;
            out.push(Observation::new(
                "pushed manifest",
                format!("tag {tag} in {}", image.repository),
                format!("{}: {}", e.code().unwrap_or("error"), e.message().unwrap_or_default()),
                false,
            ));
            return out;
        }
    };
    let Some(digest) = digest else {
        out.push(Observation::new("pushed manifest", format!("tag {tag} in {}", image.repository), "no image", false));
        return out;
    };
    out.push(Observation::new("pushed manifest", format!("tag {tag} in {}", image.repository), digest.clone(), true));

    // The registry serves that manifest.
    match registry_manifest(ctx, &image.repository, &tag).await {
        Ok((served_digest, body_digest)) => {
            let ok = served_digest == digest && body_digest == digest;
            out.push(Observation::new(
                "registry manifest",
                "the digest ECR reports",
                if ok { "the digest ECR reports".to_owned() } else { format!("{served_digest} (body {body_digest})") },
                ok,
            ));
        }
        Err(e) => out.push(Observation::new("registry manifest", "the digest ECR reports", e, false)),
    }
    out
}

/// GETs the manifest through the registry API: (Docker-Content-Digest, sha256 of the body).
async fn registry_manifest(ctx: &RunContext, repository: &str, tag: &str) -> Result<(String, String), String> {
    let login = crate::steps::registry_login(ctx).await.map_err(|e| e.message)?;
    let scheme = if login.http { "http" } else { "https" };
    let url = format!("{scheme}://{}/v2/{repository}/manifests/{tag}", login.host);
    let accept = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json";
    let mut request = ctx.http.get(&url).basic_auth(&login.username, Some(&login.password)).header("Accept", accept);
    request = request.timeout(std::time::Duration::from_secs(30));
    let response = request.send().await.map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status();
    let served = response.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("GET {url}: {status} {}", String::from_utf8_lossy(&body)));
    }
    Ok((served, format!("sha256:{}", hex::encode(sha2::Sha256::digest(&body)))))
}
