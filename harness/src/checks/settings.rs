//! The `settings:` section of a scenario: what the checks need to know about the deployed stack. Each section
//! serves several checks; a check names the sections it needs ([`Check::NEEDS`](super::Check::NEEDS)).

use serde::Deserialize;

use super::CheckName;

/// A section of `settings:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Api,
    Cors,
    Trigger,
    Swagger,
    Image,
}

impl Section {
    fn name(self) -> &'static str {
        match self {
            Section::Api => "api",
            Section::Cors => "cors",
            Section::Trigger => "trigger",
            Section::Swagger => "swagger",
            Section::Image => "image",
        }
    }
}

/// Settings for every check a scenario runs; each part is required only when its check is listed.
#[derive(Debug, Clone, Default)]
pub struct CheckSettings {
    pub api: Option<ApiSettings>,
    pub cors: Option<CorsSettings>,
    pub trigger: Option<TriggerSettings>,
    pub swagger: Option<SwaggerSettings>,
    pub image: Option<ImageSettings>,
}

/// The `settings:` mapping as written (its JSON Schema is part of the scenario schema).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    api: Option<ApiSettings>,
    cors: Option<CorsSettings>,
    trigger: Option<TriggerSettings>,
    swagger: Option<SwaggerSettings>,
    image: Option<ImageSettings>,
}

/// The CRTS image: the job definition that runs it and the repository and tag it must come from.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSettings {
    /// `name:revision`.
    pub job_definition: String,
    pub repository: String,
    pub tag: String,
}

/// The Swagger site: the bucket whose website serves it and the API definition's key.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SwaggerSettings {
    pub bucket: String,
    #[serde(default = "default_definition")]
    pub definition: String,
}

fn default_definition() -> String {
    "crts-swagger.json".into()
}

/// The API resource under test.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub name: String,
    pub stage: String,
    pub path: String,
    /// Name of the API key (its value is learned when the key is created).
    pub api_key: String,
}

/// The browser origin that calls the API (the Swagger site).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorsSettings {
    pub origin: String,
    /// Headers the Swagger UI sends with the POST.
    pub request_headers: Vec<String>,
}

/// The job-trigger request and what it must produce in Batch.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerSettings {
    /// The JSON body POSTed to the API.
    pub body: serde_json::Value,
    pub job_queue: String,
    /// `name:revision` the job must run with.
    pub job_definition: String,
    /// How long to wait for the job to succeed (AWS Fargate takes minutes; the emulator milliseconds).
    #[serde(default = "default_job_timeout")]
    pub job_timeout_seconds: u64,
}

fn default_job_timeout() -> u64 {
    900
}

impl CheckSettings {
    /// Parses the section and checks that every listed check has what it needs.
    pub fn parse(value: Option<serde_norway::Value>, checks: &[CheckName]) -> Result<Self, String> {
        let raw: RawSettings = match value {
            Some(value) => serde_path_to_error::deserialize(value).map_err(|e| {
                let path = e.path().to_string();
                if path == "." { e.inner().to_string() } else { format!("{path}: {}", e.inner()) }
            })?,
            None => RawSettings { api: None, cors: None, trigger: None, swagger: None, image: None },
        };
        let settings =
            Self { api: raw.api, cors: raw.cors, trigger: raw.trigger, swagger: raw.swagger, image: raw.image };
        for check in checks {
            if let Some(section) = check.needs().iter().find(|section| !settings.has(**section)) {
                return Err(format!("the `{}` check needs `settings.{}`", check.as_str(), section.name()));
            }
        }
        Ok(settings)
    }

    fn has(&self, section: Section) -> bool {
        match section {
            Section::Api => self.api.is_some(),
            Section::Cors => self.cors.is_some(),
            Section::Trigger => self.trigger.is_some(),
            Section::Swagger => self.swagger.is_some(),
            Section::Image => self.image.is_some(),
        }
    }
}
