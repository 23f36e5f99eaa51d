//! S3 steps ("Swagger via AWS S3 > AWS S3"): the bucket with public access allowed, static website hosting, the
//! runbook's bucket policy and CORS rules.

use std::path::{Path, PathBuf};

use aws_sdk_s3::types::{
    CorsConfiguration, CorsRule, ErrorDocument, IndexDocument, PublicAccessBlockConfiguration, WebsiteConfiguration,
};
use serde::Deserialize;
use serde_json::json;

use super::{ErrorKind, Observed, RunContext, RunbookStep, Settings, StepError, fixture, optional};
use crate::verify::{Expect, Expected};

/// Creates the bucket. `public_access: allowed` is the console's unticked "Block all public access" (all four
/// Block Public Access settings off); `blocked` keeps AWS's default for new buckets.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBucket {
    pub name: String,
    pub public_access: PublicAccess,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicAccess {
    Allowed,
    Blocked,
}

impl Settings for CreateBucket {}

impl RunbookStep for CreateBucket {
    const READS: &'static [&'static str] = &["s3:ListBucket", "s3:GetBucketPublicAccessBlock"];
    const CHANGES: &'static [&'static str] = &[
        "s3:CreateBucket",
        "s3:PutBucketTagging",
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketTagging",
        "s3:ListBucket",
        "s3:DeleteObject",
        "s3:DeleteBucket",
    ];

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let mut create = ctx.s3.create_bucket().bucket(&self.name);
        if ctx.target.region != "us-east-1" {
            create = create.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(ctx.target.region.as_str().into())
                    .build(),
            );
        }
        create.send().await.map_err(|e| StepError::sdk("CreateBucket", e))?;
        if let Some(tags) = ctx.tags() {
            let tags =
                tags.into_iter().filter_map(|(k, v)| aws_sdk_s3::types::Tag::builder().key(k).value(v).build().ok());
            let tagging = aws_sdk_s3::types::Tagging::builder().set_tag_set(Some(tags.collect())).build();
            let tagging = tagging.map_err(|e| StepError::unexpected(format!("bucket tags: {e}")))?;
            let put = ctx.s3.put_bucket_tagging().bucket(&self.name).tagging(tagging).send().await;
            if let Err(e) = put {
                // An untagged bucket could never be removed by teardown or cleanup (they only remove what carries
                // the run's tag): the bucket this call just made goes again.
                let _ = ctx.s3.delete_bucket().bucket(&self.name).send().await;
                return Err(StepError::sdk("PutBucketTagging", e));
            }
        }
        if self.public_access == PublicAccess::Allowed {
            let off = PublicAccessBlockConfiguration::builder()
                .block_public_acls(false)
                .ignore_public_acls(false)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build();
            ctx.s3
                .put_public_access_block()
                .bucket(&self.name)
                .public_access_block_configuration(off)
                .send()
                .await
                .map_err(|e| StepError::sdk("PutPublicAccessBlock", e))?;
        }
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        ctx.s3.head_bucket().bucket(&self.name).send().await.map_err(|e| StepError::sdk("HeadBucket", e))?;
        let block = ctx.s3.get_public_access_block().bucket(&self.name).send().await;
        let blocked: Vec<&str> = match &block {
            Ok(out) => out
                .public_access_block_configuration()
                .map(|c| {
                    [
                        (c.block_public_acls(), "BlockPublicAcls"),
                        (c.ignore_public_acls(), "IgnorePublicAcls"),
                        (c.block_public_policy(), "BlockPublicPolicy"),
                        (c.restrict_public_buckets(), "RestrictPublicBuckets"),
                    ]
                    .into_iter()
                    .filter(|(on, _)| *on == Some(true))
                    .map(|(_, name)| name)
                    .collect()
                })
                .unwrap_or_default(),
            Err(e) if is_code(e, "NoSuchPublicAccessBlockConfiguration") => Vec::new(),
            Err(_) => return Err(StepError::sdk("GetPublicAccessBlock", block.expect_err("matched Err"))),
        };
        Ok(Observed::from([("bucket".into(), json!(self.name)), ("public_access_blocked".into(), json!(blocked))]))
    }

    /// `blocked` is what AWS gives a new bucket: all four settings on.
    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let blocked: &[&str] = match self.public_access {
            PublicAccess::Allowed => &[],
            PublicAccess::Blocked => {
                &["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
            }
        };
        Ok(Expected::from([
            ("bucket".into(), Expect::is(&self.name)),
            ("public_access_blocked".into(), Expect::is(blocked)),
        ]))
    }

    fn creates(&self, _ctx: &RunContext) -> Vec<String> {
        vec![format!("S3 bucket {}", self.name)]
    }

    /// Empties the bucket (AWS deletes only empty buckets), then deletes it.
    async fn tear_down(&self, ctx: &mut RunContext) -> Result<Vec<String>, StepError> {
        let Some(tags) = bucket_tags(ctx, &self.name).await? else { return Ok(Vec::new()) };
        ctx.ensure_owned(&format!("S3 bucket {}", self.name), tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        remove_bucket(ctx, &self.name).await
    }
}

/// A bucket's tags (none: an empty set, as S3's NoSuchTagSet says), or `None` when the bucket is gone.
pub(crate) async fn bucket_tags(ctx: &RunContext, name: &str) -> Result<Option<Vec<(String, String)>>, StepError> {
    match ctx.s3.get_bucket_tagging().bucket(name).send().await {
        Ok(tagging) => Ok(Some(tagging.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect())),
        Err(e) => match StepError::sdk("GetBucketTagging", e) {
            e if e.code == "NoSuchTagSet" => Ok(Some(Vec::new())),
            e if e.kind() == ErrorKind::Missing => Ok(None),
            e => Err(e),
        },
    }
}

/// Empties a bucket (AWS deletes only empty buckets), then deletes it.
pub(crate) async fn remove_bucket(ctx: &RunContext, name: &str) -> Result<Vec<String>, StepError> {
    loop {
        let listed = ctx.s3.list_objects_v2().bucket(name).send().await;
        let Some(listed) = optional("ListObjectsV2", listed)? else { return Ok(Vec::new()) };
        if listed.contents().is_empty() {
            break;
        }
        for key in listed.contents().iter().filter_map(|o| o.key()) {
            let deleted = ctx.s3.delete_object().bucket(name).key(key).send().await;
            deleted.map_err(|e| StepError::sdk("DeleteObject", e))?;
        }
    }
    optional("DeleteBucket", ctx.s3.delete_bucket().bucket(name).send().await)?;
    Ok(vec![format!("S3 bucket {name} (emptied)")])
}

/// Whether an SDK error carries this AWS error code.
fn is_code<E, R>(err: &aws_smithy_runtime_api::client::result::SdkError<E, R>, code: &str) -> bool
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata,
{
    use aws_smithy_types::error::metadata::ProvideErrorMetadata;
    err.code() == Some(code)
}

/// Enables static website hosting.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnableWebsite {
    pub bucket: String,
    pub index_document: String,
    #[serde(default)]
    pub error_document: Option<String>,
}

impl Settings for EnableWebsite {}

impl RunbookStep for EnableWebsite {
    const READS: &'static [&'static str] = &["s3:GetBucketWebsite"];
    const CHANGES: &'static [&'static str] = &["s3:PutBucketWebsite"];
    const UPDATABLE: bool = true;

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let index = IndexDocument::builder()
            .suffix(&self.index_document)
            .build()
            .map_err(|e| StepError::unexpected(e.to_string()))?;
        let mut website = WebsiteConfiguration::builder().index_document(index);
        if let Some(key) = &self.error_document {
            website = website.error_document(
                ErrorDocument::builder().key(key).build().map_err(|e| StepError::unexpected(e.to_string()))?,
            );
        }
        ctx.s3
            .put_bucket_website()
            .bucket(&self.bucket)
            .website_configuration(website.build())
            .send()
            .await
            .map_err(|e| StepError::sdk("PutBucketWebsite", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let got = ctx
            .s3
            .get_bucket_website()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetBucketWebsite", e))?;
        Ok(Observed::from([
            ("index_document".into(), json!(got.index_document().map(|i| i.suffix()))),
            ("error_document".into(), json!(got.error_document().map(|e| e.key()))),
        ]))
    }

    /// The error document only when the scenario names one (the runbook does not).
    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let mut expected = Expected::from([("index_document".into(), Expect::is(&self.index_document))]);
        if let Some(key) = &self.error_document {
            expected.insert("error_document".into(), Expect::is(key));
        }
        Ok(expected)
    }
}

/// Puts the runbook's bucket policy (a file, sent verbatim but for the bucket name).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PutBucketPolicy {
    pub bucket: String,
    pub document: PathBuf,
    /// The bucket name written in the document (the runbook's `cris-swagger-bucket`), replaced by `bucket`.
    #[serde(default)]
    pub document_bucket: Option<String>,
}

impl Settings for PutBucketPolicy {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        self.document = fixture(base_dir, &self.document)?;
        Ok(())
    }
}

impl RunbookStep for PutBucketPolicy {
    const READS: &'static [&'static str] = &["s3:GetBucketPolicy"];
    const CHANGES: &'static [&'static str] = &["s3:PutBucketPolicy"];
    const UPDATABLE: bool = true;

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.document]
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        ctx.s3
            .put_bucket_policy()
            .bucket(&self.bucket)
            .policy(self.document()?)
            .send()
            .await
            .map_err(|e| StepError::sdk("PutBucketPolicy", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let got = ctx
            .s3
            .get_bucket_policy()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetBucketPolicy", e))?;
        let summary = statements(got.policy().unwrap_or_default())
            .map_err(|e| StepError::unexpected(format!("GetBucketPolicy returned a policy that is not JSON: {e}")))?;
        Ok(Observed::from([("statements".into(), json!(summary))]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let summary = statements(&self.document()?)
            .map_err(|e| StepError::unexpected(format!("{} is not JSON: {e}", self.document.display())))?;
        Ok(Expected::from([("statements".into(), Expect::is(summary))]))
    }
}

impl PutBucketPolicy {
    /// The document as the step puts it: the file, with the bucket name it was written for replaced.
    fn document(&self) -> Result<String, StepError> {
        let document = read(&self.document)?;
        Ok(match &self.document_bucket {
            Some(name) => document.replace(&format!("arn:aws:s3:::{name}"), &format!("arn:aws:s3:::{}", self.bucket)),
            None => document,
        })
    }
}

/// A bucket policy's statements as `Effect Principal Action Resource` lines (parsed, so formatting does not count).
fn statements(policy: &str) -> Result<Vec<String>, serde_json::Error> {
    let policy: serde_json::Value = serde_json::from_str(policy)?;
    let statements = match &policy["Statement"] {
        serde_json::Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    };
    Ok(statements
        .iter()
        .map(|s| {
            format!(
                "{} {} {} {}",
                s["Effect"].as_str().unwrap_or("?"),
                compact(&s["Principal"]),
                compact(&s["Action"]),
                compact(&s["Resource"])
            )
        })
        .collect())
}

fn compact(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Puts the runbook's CORS rules (a JSON file in the console's format: a list of rules).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PutBucketCors {
    pub bucket: String,
    pub rules: PathBuf,
}

impl Settings for PutBucketCors {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        self.rules = fixture(base_dir, &self.rules)?;
        let text =
            std::fs::read_to_string(&self.rules).map_err(|e| format!("cannot read {}: {e}", self.rules.display()))?;
        parse_rules(&text).map_err(|e| format!("{}: {e}", self.rules.display()))?;
        Ok(())
    }
}

/// One rule as the S3 console writes it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct ConsoleCorsRule {
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(default)]
    allowed_headers: Vec<String>,
    allowed_methods: Vec<String>,
    allowed_origins: Vec<String>,
    #[serde(default)]
    expose_headers: Vec<String>,
    #[serde(default)]
    max_age_seconds: Option<i32>,
}

fn parse_rules(text: &str) -> Result<Vec<ConsoleCorsRule>, String> {
    serde_json::from_str(text).map_err(|e| format!("not a list of CORS rules as the S3 console writes them: {e}"))
}

impl RunbookStep for PutBucketCors {
    const READS: &'static [&'static str] = &["s3:GetBucketCORS"];
    const CHANGES: &'static [&'static str] = &["s3:PutBucketCORS"];
    const UPDATABLE: bool = true;

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.rules]
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let rules = parse_rules(&read(&self.rules)?).map_err(StepError::unexpected)?;
        let mut config = CorsConfiguration::builder();
        for rule in rules {
            let built = CorsRule::builder()
                .set_id(rule.id)
                .set_allowed_headers(Some(rule.allowed_headers))
                .set_allowed_methods(Some(rule.allowed_methods))
                .set_allowed_origins(Some(rule.allowed_origins))
                .set_expose_headers(Some(rule.expose_headers))
                .set_max_age_seconds(rule.max_age_seconds)
                .build()
                .map_err(|e| StepError::unexpected(e.to_string()))?;
            config = config.cors_rules(built);
        }
        let config = config.build().map_err(|e| StepError::unexpected(e.to_string()))?;
        ctx.s3
            .put_bucket_cors()
            .bucket(&self.bucket)
            .cors_configuration(config)
            .send()
            .await
            .map_err(|e| StepError::sdk("PutBucketCors", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let got = ctx
            .s3
            .get_bucket_cors()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetBucketCors", e))?;
        let rules: Vec<serde_json::Value> = got
            .cors_rules()
            .iter()
            .map(|r| rule_view(r.allowed_origins(), r.allowed_methods(), r.allowed_headers()))
            .collect();
        Ok(Observed::from([("rules".into(), json!(rules))]))
    }

    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let rules = parse_rules(&read(&self.rules)?).map_err(StepError::unexpected)?;
        let rules: Vec<serde_json::Value> =
            rules.iter().map(|r| rule_view(&r.allowed_origins, &r.allowed_methods, &r.allowed_headers)).collect();
        Ok(Expected::from([("rules".into(), Expect::is(rules))]))
    }
}

/// A CORS rule as the report shows it.
fn rule_view(origins: &[String], methods: &[String], headers: &[String]) -> serde_json::Value {
    json!({ "origins": origins, "methods": methods, "headers": headers })
}

fn read(path: &Path) -> Result<String, StepError> {
    std::fs::read_to_string(path).map_err(|e| StepError::unexpected(format!("cannot read {}: {e}", path.display())))
}
