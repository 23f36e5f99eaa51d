//! The composition root: one emulator instance's services, built and wired together here. Services never see this
//! state; each handler gets the narrow interfaces it needs (`services::Authorize`, `Images`, `TaggedResources`,
//! `lambda::Env`), which this module implements or hands over (`server.rs` routes requests to them).

use crate::config::Config;
use crate::identity::Sessions;
use crate::services::{apigateway, batch, ecr, iam, lambda, logs, s3};

/// The state of one emulator instance: configuration, issued credentials, and each service's resources.
pub struct AppState {
    pub config: Config,
    /// Base URL of this instance, e.g. `http://127.0.0.1:4566`.
    pub endpoint: String,
    pub sessions: Sessions,
    pub iam: iam::Iam,
    pub lambda: lambda::Lambda,
    pub batch: batch::Batch,
    pub apigateway: apigateway::ApiGateway,
    pub s3: s3::S3,
    pub ecr: ecr::Ecr,
    pub logs: std::sync::Arc<logs::Logs>,
    /// Every request, in order (see [`Emulator::requests`]).
    pub journal: crate::journal::Journal,
    /// Failures tests inject (see [`Emulator::faults`]).
    pub faults: crate::faults::Faults,
}

impl AppState {
    pub(crate) fn new(config: Config, endpoint: String) -> Self {
        let logs = std::sync::Arc::new(logs::Logs::new());
        Self {
            iam: iam::Iam::new(),
            lambda: lambda::Lambda::new(config.lambda.clone()),
            batch: batch::Batch::new(config.batch.clone(), logs.clone()),
            apigateway: apigateway::ApiGateway::new(),
            s3: s3::S3::new(),
            ecr: ecr::Ecr::new(),
            logs,
            sessions: Sessions::default(),
            journal: crate::journal::Journal::default(),
            faults: crate::faults::Faults::default(),
            config,
            endpoint,
        }
    }
}

/// Lambda's view of the emulator: its functions, IAM, role session credentials and the endpoint (see
/// [`lambda::Env`]).
impl lambda::Env for AppState {
    fn lambda(&self) -> &lambda::Lambda {
        &self.lambda
    }

    fn iam(&self) -> &dyn crate::services::Authorize {
        &self.iam
    }

    fn role_exists(&self, role_arn: &str) -> bool {
        self.iam.role_exists(role_arn)
    }

    fn issue_session(&self, role_arn: &str, session_name: &str) -> crate::identity::RoleSession {
        self.sessions.issue(role_arn, session_name)
    }

    fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn logs(&self) -> &dyn logs::LogSink {
        self.logs.as_ref()
    }
}
