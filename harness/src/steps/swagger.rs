//! Swagger steps ("Swagger via AWS S3 > Swagger"): upload the Swagger code (with Swagger UI itself from PyPI when
//! the code does not ship it), then `crts-swagger.json` pointed at the deployed API on the current target.

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, RunbookStep, Settings, StepError};
use crate::package::Package;
use crate::verify::{Expect, Expected};
use crate::{swagger_definition, swagger_ui};

/// The file a browser loads first; the Swagger code is the folder that holds it.
const INDEX: &str = "index.html";
/// Swagger UI's own script: Swagger code without it gets Swagger UI's files from PyPI (see [`swagger_ui`]).
const BUNDLE: &str = "swagger-ui-bundle.js";

/// "Unzip the Swagger code and upload to the S3 bucket": every file of `code` (a folder or `.zip`, from the folder
/// holding index.html), keys as their paths. Code that does not ship Swagger UI (our fixture: a page and its
/// initializer) gets Swagger UI's files from the PyPI package first.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadUi {
    pub bucket: String,
    /// A folder or `.zip` with index.html at its root (or in its one top folder).
    pub code: PathBuf,
}

impl Settings for UploadUi {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        let package = Package::open(base_dir, &self.code).map_err(|e| format!("with.code: {e}"))?;
        package.root_of(INDEX).map_err(|e| format!("with.code: {e}"))?;
        self.code = package.path().to_path_buf();
        Ok(())
    }
}

impl RunbookStep for UploadUi {
    const READS: &'static [&'static str] = &["s3:ListBucket"];
    const CHANGES: &'static [&'static str] = &["s3:PutObject"];
    const UPDATABLE: bool = true;

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.code]
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let code = self.code_entries()?;
        // Swagger UI may sit anywhere in the code (a `dist/` folder, say): its index.html then loads it from there.
        let mut files = if ships_swagger_ui(&code) {
            Vec::new()
        } else {
            let ui = swagger_ui::obtain(&ctx.http).await.map_err(StepError::unexpected)?;
            ctx.notes.push(format!(
                "the Swagger code has no {BUNDLE}: Swagger UI {} added from PyPI's swagger-ui-bundle",
                ui.version
            ));
            ui.files
        };
        // The code's own files come last, so that they win over Swagger UI's where both have a file.
        files.extend(code.into_iter().map(|entry| (entry.path, entry.data)));
        for (name, bytes) in &files {
            ctx.s3
                .put_object()
                .bucket(&self.bucket)
                .key(name)
                .content_type(swagger_ui::content_type(name))
                .body(ByteStream::from(bytes.clone()))
                .send()
                .await
                .map_err(|e| StepError::sdk("PutObject", e))?;
        }
        let keys = object_keys(ctx, &self.bucket).await?;
        let missing: Vec<&str> =
            files.iter().map(|(n, _)| n.as_str()).filter(|n| !keys.iter().any(|k| k == n)).collect();
        if !missing.is_empty() {
            return Err(StepError::unexpected(format!("uploaded but not listed: {}", missing.join(", "))));
        }
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let keys = object_keys(ctx, &self.bucket).await?;
        let bundled = keys.iter().any(|k| k.rsplit('/').next() == Some(BUNDLE));
        Ok(Observed::from([("swagger_ui_bundle".into(), json!(bundled)), ("objects".into(), json!(keys))]))
    }

    /// Every file of the Swagger code, and Swagger UI's bundle (the code's, or the one added from PyPI).
    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        let code = self.code_entries()?;
        Ok(Expected::from([
            ("swagger_ui_bundle".into(), Expect::is(true)),
            ("objects".into(), Expect::includes(code.iter().map(|e| &e.path))),
        ]))
    }
}

impl UploadUi {
    fn code_entries(&self) -> Result<Vec<crate::package::Entry>, StepError> {
        Package::open(Path::new(""), &self.code)
            .and_then(|package| package.entries_around(INDEX))
            .map_err(StepError::unexpected)
    }
}

fn ships_swagger_ui(code: &[crate::package::Entry]) -> bool {
    code.iter().any(|e| e.path.rsplit('/').next() == Some(BUNDLE))
}

/// Every key in the bucket, sorted.
async fn object_keys(ctx: &RunContext, bucket: &str) -> Result<Vec<String>, StepError> {
    let mut keys = Vec::new();
    let mut pages = ctx.s3.list_objects_v2().bucket(bucket).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| StepError::sdk("ListObjectsV2", e))?;
        keys.extend(page.contents().iter().filter_map(|o| o.key()).map(str::to_owned));
    }
    keys.sort_unstable();
    Ok(keys)
}

/// "Update crts-swagger.json with the API gateway details (URL)" and upload it: the developer's definition
/// (Swagger 2.0 or OpenAPI 3) with its server set to the deployed stage of `api` on this target.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PutApiDefinition {
    pub bucket: String,
    /// The `crts-swagger.json` to upload.
    pub definition: PathBuf,
    #[serde(default = "default_key")]
    pub key: String,
    pub api: String,
    pub stage: String,
}

fn default_key() -> String {
    "crts-swagger.json".into()
}

impl Settings for PutApiDefinition {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        let path = base_dir.join(&self.definition);
        if !path.is_file() {
            return Err(format!("with.definition: {}", crate::package::not_found(base_dir, &self.definition)));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("with.definition: cannot read {}: {e}", path.display()))?;
        swagger_definition::parse(&text).map_err(|e| format!("with.definition: {}: {e}", path.display()))?;
        self.definition = path;
        Ok(())
    }
}

impl RunbookStep for PutApiDefinition {
    const READS: &'static [&'static str] = &["s3:GetObject", "apigateway:GET"];
    const CHANGES: &'static [&'static str] = &["s3:PutObject"];
    const UPDATABLE: bool = true;

    fn inputs(&self) -> Vec<&Path> {
        vec![&self.definition]
    }

    async fn apply(&self, ctx: &mut RunContext) -> Result<(), StepError> {
        let api_id = super::apigateway::api_id(ctx, &self.api).await?;
        let (scheme, host, base_path) = ctx.target.api_base(&api_id, &self.stage);
        let mut spec = self.definition()?;
        swagger_definition::set_server(&mut spec, &swagger_definition::Server { scheme, host, base_path });
        let definition = serde_json::to_vec_pretty(&spec)
            .map_err(|e| StepError::unexpected(format!("cannot write the definition: {e}")))?;
        ctx.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(definition))
            .send()
            .await
            .map_err(|e| StepError::sdk("PutObject", e))?;
        Ok(())
    }

    async fn observe(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = super::apigateway::api_id(ctx, &self.api).await?;
        let (scheme, host, _) = ctx.target.api_base(&api_id, &self.stage);
        let got = ctx
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .send()
            .await
            .map_err(|e| StepError::sdk("GetObject", e))?;
        let bytes =
            got.body.collect().await.map_err(|e| StepError::unexpected(format!("reading {}: {e}", self.key)))?;
        let spec: serde_json::Value = serde_json::from_slice(&bytes.into_bytes())
            .map_err(|e| StepError::unexpected(format!("{} read back is not JSON: {e}", self.key)))?;
        // The server as read back: `{execute-api}` when it is this target's URL form for the API (so the view is
        // the same on every target), else the URL itself, with the API id and the emulator's port normalized.
        let read = swagger_definition::server(&spec).unwrap_or(swagger_definition::Server {
            scheme: "?".into(),
            host: "?".into(),
            base_path: "?".into(),
        });
        let shown = if read.scheme == scheme && read.host == host {
            format!("{{execute-api}}{}", read.base_path)
        } else {
            let url = format!("{}://{}{}", read.scheme, read.host, read.base_path).replace(&api_id, "{api_id}");
            match ctx.target.loopback() {
                Some(addr) => url.replace(&format!(":{}", addr.port()), ":{port}"),
                None => url,
            }
        };
        Ok(Observed::from([("server".into(), json!(shown)), ("operations".into(), json!(operations(&spec)))]))
    }

    /// The server is the deployed stage on this target; the operations are the definition's.
    async fn expected(&self, _ctx: &mut RunContext) -> Result<Expected, StepError> {
        Ok(Expected::from([
            ("server".into(), Expect::is(format!("{{execute-api}}/{}", self.stage))),
            ("operations".into(), Expect::is(operations(&self.definition()?))),
        ]))
    }
}

impl PutApiDefinition {
    fn definition(&self) -> Result<serde_json::Value, StepError> {
        let text = std::fs::read_to_string(&self.definition)
            .map_err(|e| StepError::unexpected(format!("cannot read {}: {e}", self.definition.display())))?;
        swagger_definition::parse(&text)
            .map_err(|e| StepError::unexpected(format!("{}: {e}", self.definition.display())))
    }
}

/// `POST /crts`, ...: the definition's operations.
fn operations(spec: &serde_json::Value) -> Vec<String> {
    spec["paths"]
        .as_object()
        .map(|paths| {
            paths
                .iter()
                .flat_map(|(path, methods)| {
                    methods.as_object().into_iter().flatten().map(move |(m, _)| format!("{} {path}", m.to_uppercase()))
                })
                .collect()
        })
        .unwrap_or_default()
}
