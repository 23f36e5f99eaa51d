//! Swagger steps ("Swagger via AWS S3 > Swagger"): upload Swagger UI with our page, then `crts-swagger.json`
//! generated for the deployed API on the current target.

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use serde::Deserialize;
use serde_json::json;

use super::{Observed, RunContext, Settings, StepError, fixture};
use crate::swagger_ui;

/// Uploads the real Swagger UI (see [`swagger_ui`]) and the files of `site` (our index.html and initializer).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadUi {
    pub bucket: String,
    /// A folder whose files are uploaded after Swagger UI's, at the bucket's root.
    pub site: PathBuf,
}

impl Settings for UploadUi {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        let dir = base_dir.join(&self.site);
        if !dir.join("index.html").is_file() {
            return Err(format!("folder `{}` must contain index.html", self.site.display()));
        }
        self.site = dir;
        Ok(())
    }
}

impl UploadUi {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let ui = swagger_ui::obtain(&ctx.http).await.map_err(StepError::unexpected)?;
        let mut files = ui.files.clone();
        let mut entries: Vec<_> = std::fs::read_dir(&self.site)
            .map_err(|e| StepError::unexpected(format!("cannot list {}: {e}", self.site.display())))?
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let bytes = std::fs::read(entry.path())
                .map_err(|e| StepError::unexpected(format!("cannot read {}: {e}", entry.path().display())))?;
            files.push((entry.file_name().to_string_lossy().into_owned(), bytes));
        }
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

        let listed = ctx
            .s3
            .list_objects_v2()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| StepError::sdk("ListObjectsV2", e))?;
        let mut keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
        keys.sort_unstable();
        let missing: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).filter(|n| !keys.contains(n)).collect();
        if !missing.is_empty() {
            return Err(StepError::unexpected(format!("uploaded but not listed: {}", missing.join(", "))));
        }
        Ok(Observed::from([("swagger_ui".into(), json!(ui.version)), ("objects".into(), json!(keys))]))
    }
}

/// Generates the API definition from a template for the deployed API's invoke URL on this target and uploads it.
/// The template's `{{scheme}}`, `{{host}}`, `{{base_path}}` and `{{path}}` are filled in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PutApiDefinition {
    pub bucket: String,
    pub template: PathBuf,
    #[serde(default = "default_key")]
    pub key: String,
    pub api: String,
    pub stage: String,
    pub path: String,
}

fn default_key() -> String {
    "crts-swagger.json".into()
}

impl Settings for PutApiDefinition {
    fn resolve_files(&mut self, base_dir: &Path) -> Result<(), String> {
        self.template = fixture(base_dir, &self.template)?;
        let text = std::fs::read_to_string(&self.template)
            .map_err(|e| format!("cannot read {}: {e}", self.template.display()))?;
        let rendered = render(&text, "http", "example.com", "/stage", "/path");
        serde_json::from_str::<serde_json::Value>(&rendered)
            .map_err(|e| format!("{} does not render to JSON: {e}", self.template.display()))?;
        Ok(())
    }
}

fn render(template: &str, scheme: &str, host: &str, base_path: &str, path: &str) -> String {
    template
        .replace("{{scheme}}", scheme)
        .replace("{{host}}", host)
        .replace("{{base_path}}", base_path)
        .replace("{{path}}", path)
}

impl PutApiDefinition {
    pub async fn run(&self, ctx: &mut RunContext) -> Result<Observed, StepError> {
        let api_id = super::apigateway::api_id(ctx, &self.api).await?;
        let (scheme, host, base_path) = ctx.target.api_base(&api_id, &self.stage);
        let template = std::fs::read_to_string(&self.template)
            .map_err(|e| StepError::unexpected(format!("cannot read {}: {e}", self.template.display())))?;
        let definition = render(&template, &scheme, &host, &base_path, &self.path);
        ctx.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(definition.into_bytes()))
            .send()
            .await
            .map_err(|e| StepError::sdk("PutObject", e))?;

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
        let (read_scheme, read_host) =
            (spec["schemes"][0].as_str().unwrap_or("?"), spec["host"].as_str().unwrap_or("?"));
        let read_base_path = spec["basePath"].as_str().unwrap_or("?");
        let shown = if read_scheme == scheme && read_host == host {
            format!("{{execute-api}}{read_base_path}")
        } else {
            let url = format!("{read_scheme}://{read_host}{read_base_path}").replace(&api_id, "{api_id}");
            match ctx.target.loopback() {
                Some(addr) => url.replace(&format!(":{}", addr.port()), ":{port}"),
                None => url,
            }
        };
        let operations: Vec<String> = spec["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .flat_map(|(path, methods)| {
                        methods
                            .as_object()
                            .into_iter()
                            .flatten()
                            .map(move |(m, _)| format!("{} {path}", m.to_uppercase()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Observed::from([("server".into(), json!(shown)), ("operations".into(), json!(operations))]))
    }
}
