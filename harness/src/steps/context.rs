//! What steps and checks share during a run: the SDK clients for the target, an HTTP client, and the facts
//! learned so far (ids the target assigned, the API key's value).

use std::collections::BTreeMap;

use crate::targets::TargetSession;

/// SDK clients for one target, plus what the run has learned.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub target: TargetSession,
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub batch: aws_sdk_batch::Client,
    pub apigateway: aws_sdk_apigateway::Client,
    pub http: reqwest::Client,
    pub facts: Facts,
}

impl RunContext {
    pub fn new(target: TargetSession) -> Self {
        let config = &target.sdk_config;
        Self {
            iam: aws_sdk_iam::Client::new(config),
            lambda: aws_sdk_lambda::Client::new(config),
            batch: aws_sdk_batch::Client::new(config),
            apigateway: aws_sdk_apigateway::Client::new(config),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap_or_else(|_| reqwest::Client::new()),
            facts: Facts::default(),
            target,
        }
    }
}

/// Ids and values the target assigned, by the names the scenario uses.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// REST API name → id.
    pub rest_api_ids: BTreeMap<String, String>,
    /// API key name → (id, value). The value is a secret: never printed, redacted in reports.
    pub api_keys: BTreeMap<String, ApiKeyFact>,
    /// Usage plan name → id.
    pub usage_plan_ids: BTreeMap<String, String>,
}

#[derive(Clone)]
pub struct ApiKeyFact {
    pub id: String,
    pub value: String,
    pub usage_plan_id: String,
}

impl std::fmt::Debug for ApiKeyFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyFact").field("id", &self.id).field("value", &"<redacted>").finish()
    }
}
