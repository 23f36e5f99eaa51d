//! AWS Lambda (rest-json under `/2015-03-31/functions`): functions from zip files, their resource policies,
//! and invocations run by a real Python runtime (see [`runtime`]).
//!
//! <https://docs.aws.amazon.com/lambda/latest/api/welcome.html>
//!
//! Codemap: [`functions`] (Create/Get/Update/Delete/List), [`permissions`] (AddPermission, GetPolicy,
//! RemovePermission, and the check API Gateway's invocations pass), [`invoke`] (Invoke and
//! [`invoke_for_service`]), [`runtime`] (interpreters, worker pools, the Python bootstrap).
//! Functions live per account and region.

mod functions;
mod invoke;
mod permissions;
pub mod runtime;
mod tags;
#[cfg(test)]
mod tests;

/// Lambda's environment for other services' unit tests and its own: its functions, a stand-in IAM, one role that
/// exists (or none), and no interpreter (no function runs: a create's prewarmed worker cannot start).
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use super::{Env, Lambda};
    use crate::config::LambdaConfig;
    use crate::identity::{RoleSession, Sessions};
    use crate::services::Authorize;
    use crate::services::logs::{LogSink, Logs};

    struct StandIn {
        lambda: Lambda,
        sessions: Sessions,
        logs: Logs,
        iam: &'static dyn Authorize,
        role: Option<&'static str>,
    }

    impl Env for StandIn {
        fn lambda(&self) -> &Lambda {
            &self.lambda
        }

        fn iam(&self) -> &dyn Authorize {
            self.iam
        }

        fn role_exists(&self, role_arn: &str) -> bool {
            self.role == Some(role_arn)
        }

        fn issue_session(&self, role_arn: &str, session_name: &str) -> RoleSession {
            self.sessions.issue(role_arn, session_name)
        }

        fn endpoint(&self) -> &str {
            "http://127.0.0.1:1"
        }

        fn logs(&self) -> &dyn LogSink {
            &self.logs
        }
    }

    /// IAM's verdicts from `iam`; `role` is the one role Lambda may assume.
    pub(crate) fn env(iam: &'static dyn Authorize, role: Option<&'static str>) -> Arc<dyn Env> {
        let config =
            LambdaConfig { python: Some("/nonexistent/python3.8".into()), offline: true, ..LambdaConfig::default() };
        Arc::new(StandIn { lambda: Lambda::new(config), sessions: Sessions::default(), logs: Logs::new(), iam, role })
    }
}

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::Method;

use crate::config::LambdaConfig;
use crate::protocol::{AwsError, AwsRequest, AwsResult, Response, rest_json};
use crate::services::iam::Protocol;
use crate::services::{Authorize, Call, Service};

pub use invoke::{InvokeOutcome, ServiceInvocation, invoke_for_service};

/// Serves one Lambda request.
pub async fn handle(state: &Arc<dyn Env>, req: AwsRequest) -> Response {
    rest_json::finish(route(state, &req).await, rest_json::ErrorStyle::LambdaTyped)
}

/// One `match` from the route (method and path) to the operation's name, as IAM knows it, and its handler.
async fn route(state: &Arc<dyn Env>, req: &AwsRequest) -> AwsResult<Response> {
    let path = req.path();
    let method = &req.method;
    let call = |operation| Call { service: state, req, iam: state.iam(), operation };
    match path.as_slice() {
        ["2015-03-31", "functions"] if method == Method::POST => functions::create(&call("CreateFunction")).await,
        ["2015-03-31", "functions"] if method == Method::GET => functions::list(&call("ListFunctions")),
        ["2015-03-31", "functions", name] if method == Method::GET => functions::get(&call("GetFunction"), name),
        ["2015-03-31", "functions", name] if method == Method::DELETE => {
            functions::delete(&call("DeleteFunction"), name).await
        }
        ["2015-03-31", "functions", name, "configuration"] if method == Method::GET => {
            functions::get_configuration(&call("GetFunctionConfiguration"), name)
        }
        ["2015-03-31", "functions", name, "configuration"] if method == Method::PUT => {
            functions::update_configuration(&call("UpdateFunctionConfiguration"), name).await
        }
        ["2015-03-31", "functions", name, "code"] if method == Method::PUT => {
            functions::update_code(&call("UpdateFunctionCode"), name).await
        }
        ["2015-03-31", "functions", name, "policy"] if method == Method::POST => {
            permissions::add(&call("AddPermission"), name)
        }
        ["2015-03-31", "functions", name, "policy"] if method == Method::GET => {
            permissions::get(&call("GetPolicy"), name)
        }
        ["2015-03-31", "functions", name, "policy", sid] if method == Method::DELETE => {
            permissions::remove(&call("RemovePermission"), name, sid)
        }
        ["2017-03-31", "tags", arn] if method == Method::GET => tags::list(&call("ListTags"), arn),
        ["2017-03-31", "tags", arn] if method == Method::POST => tags::tag(&call("TagResource"), arn),
        ["2017-03-31", "tags", arn] if method == Method::DELETE => tags::untag(&call("UntagResource"), arn),
        ["2015-03-31", "functions", name, "invocations"] if method == Method::POST => {
            invoke::invoke(&call("InvokeFunction"), name).await
        }
        _ => Err(AwsError::unknown_operation("Lambda", method, &req.raw_path)),
    }
}

/// Lambda's handlers are served with its environment, shared (`Arc`) so that what they start in the background (a
/// worker, an asynchronous invocation) can keep it.
impl Service for Arc<dyn Env> {
    const IAM_PREFIX: &'static str = "lambda";
    const PROTOCOL: Protocol = Protocol::RestJson;
}

/// What Lambda needs from the rest of the emulator, and nothing more: its own functions, IAM (may a caller act,
/// does a role exist), credentials for a function's role session, and the endpoint the function's code calls back
/// to. The server's state implements it; handlers hold it as `Arc<dyn Env>` so that what they start in the
/// background (a worker, an asynchronous invocation) can keep it.
pub trait Env: Send + Sync + 'static {
    fn lambda(&self) -> &Lambda;
    fn iam(&self) -> &dyn Authorize;
    fn role_exists(&self, role_arn: &str) -> bool;
    fn issue_session(&self, role_arn: &str, session_name: &str) -> crate::identity::RoleSession;
    fn endpoint(&self) -> &str;
    /// Where invocations' output goes (CloudWatch Logs).
    fn logs(&self) -> &dyn crate::services::logs::LogSink;
}

/// The Lambda service of one emulator instance.
pub struct Lambda {
    config: LambdaConfig,
    /// Functions per (account, region), by name.
    functions: crate::store::Scoped<(String, String), BTreeMap<String, Function>>,
    /// Where the bootstrap and the functions' extracted code live for this instance.
    work_dir: PathBuf,
    /// The cap on live workers across all functions.
    capacity: Arc<runtime::Capacity>,
}

impl std::fmt::Debug for Lambda {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lambda").field("work_dir", &self.work_dir).finish_non_exhaustive()
    }
}

/// One function (`$LATEST`; versions and aliases are not emulated).
#[derive(Debug, Clone)]
pub(crate) struct Function {
    pub name: String,
    pub arn: String,
    pub runtime: String,
    pub role: String,
    pub handler: String,
    pub description: String,
    pub timeout: u32,
    pub memory: u32,
    pub environment: BTreeMap<String, String>,
    pub architectures: Vec<String>,
    pub code_dir: PathBuf,
    pub code_size: u64,
    pub code_sha256: String,
    pub last_modified: String,
    pub revision_id: String,
    /// The first read after create/update reports the operation as finished.
    pub pending_report: bool,
    /// Resource policy statements (AddPermission).
    pub policy: Vec<serde_json::Value>,
    /// The warm workers of the current code and configuration (replaced on every update).
    pub pool: Option<Arc<runtime::Pool>>,
    pub tags: BTreeMap<String, String>,
}

impl Lambda {
    pub fn new(config: LambdaConfig) -> Self {
        let work_dir = std::env::temp_dir().join(format!(
            "crts-emulator-lambda-{}-{}",
            std::process::id(),
            crate::identity::random_lower_alnum(8)
        ));
        let capacity = runtime::Capacity::new(config.max_workers, config.replace_spares);
        Self { config, functions: crate::store::Scoped::default(), work_dir, capacity }
    }

    /// Runs `f` on the functions of one account and region. Never held across an `.await`.
    pub(crate) fn with_functions<T>(
        &self,
        account: &str,
        region: &str,
        f: impl FnOnce(&mut BTreeMap<String, Function>) -> T,
    ) -> T {
        self.functions.with((account.to_owned(), region.to_owned()), f)
    }

    fn pools(&self) -> Vec<Arc<runtime::Pool>> {
        self.functions.all(|all| all.values().flat_map(|fs| fs.values().filter_map(|f| f.pool.clone())).collect())
    }

    /// Every function of one account and region with its tags (for the Resource Groups Tagging API).
    pub fn tagged(&self, account: &str, region: &str) -> Vec<crate::services::tagging::Tagged> {
        self.with_functions(account, region, |fs| {
            fs.values().map(|f| crate::services::tagging::Tagged { arn: f.arn.clone(), tags: f.tags.clone() }).collect()
        })
    }

    /// Stops the warm workers idle for longer than the configured idle timeout (run periodically by the server).
    pub async fn reap_idle(&self) {
        let mut stopped = 0;
        for pool in self.pools() {
            stopped += pool.reap_idle(self.config.idle_timeout).await;
        }
        stopped += self.capacity.spares.reap(self.config.idle_timeout);
        if stopped > 0 {
            tracing::debug!(
                "stopped {stopped} Lambda workers and spare runtimes idle for over {:?}",
                self.config.idle_timeout
            );
        }
    }

    /// How often [`Lambda::reap_idle`] should run: often enough that a worker outlives its idle timeout by at
    /// most half of it.
    pub fn reap_every(&self) -> std::time::Duration {
        (self.config.idle_timeout / 2).clamp(std::time::Duration::from_millis(100), std::time::Duration::from_secs(30))
    }

    /// Idle warm workers across all functions.
    pub async fn idle_workers(&self) -> usize {
        let mut count = 0;
        for pool in self.pools() {
            count += pool.idle_workers().await;
        }
        count
    }

    /// Live workers (busy and idle) across all functions.
    pub fn live_workers(&self) -> usize {
        self.capacity.live_workers(self.config.max_workers)
    }

    /// Gets `runtime` ready before any function of it exists ([`LambdaConfig::prestart`]): its interpreter found
    /// (boto3 provisioned if needed) and a spare runtime started, so the first invocation only imports its handler.
    pub async fn prestart(&self, runtime: &str) {
        let interpreter = match runtime::interpreter::resolve(&self.config, runtime).await {
            Ok(interpreter) => interpreter,
            // CreateFunction says what is wrong, to the client that asks for the runtime.
            Err(_) => return,
        };
        // Stopped meanwhile: its work directory is gone, and stays gone.
        if self.capacity.spares.closed() {
            return;
        }
        match runtime::bootstrap_file(&self.work_dir).await {
            Ok(bootstrap) => self.capacity.spares.keep(&interpreter.python, &bootstrap),
            Err(e) => tracing::warn!("pre-starting the {runtime} runtime: {e}"),
        }
    }

    /// Spare runtimes ready now (see [`runtime::spare`]).
    pub fn spares(&self) -> usize {
        self.capacity.spares.ready()
    }

    /// Stops every warm worker and removes the extracted code.
    pub async fn shutdown(&self) {
        self.capacity.close();
        for pool in self.pools() {
            pool.shutdown().await;
        }
        let _ = tokio::fs::remove_dir_all(&self.work_dir).await;
    }
}

impl Drop for Lambda {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.work_dir);
    }
}

/// `name`, `arn:aws:lambda:r:acct:function:name` or `acct:function:name` → `name`.
pub(crate) fn function_name(reference: &str) -> &str {
    match reference.rsplit_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => reference,
    }
}

pub(crate) fn not_found(arn: &str) -> AwsError {
    AwsError::not_found("ResourceNotFoundException", format!("Function not found: {arn}"))
}

pub(crate) fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

pub(crate) fn json_payload(bytes: &Bytes) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
