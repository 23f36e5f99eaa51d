//! Batch driven through `Batch::dispatch` with a hand-moved clock: the CRTS setup, each refusal, the lifecycle.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use serde_json::json;

use super::*;
use crate::identity::Caller;
use crate::protocol::RequestContext;
use crate::services::iam::{Context, Denial};
use crate::services::test_support::AllowAll;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const T0: i64 = 1_800_000_000_000;
/// One state lasts a second in these tests.
const STEP: i64 = 1000;

fn arn(resource: &str) -> String {
    format!("arn:aws:batch:{REGION}:{ACCOUNT}:{resource}")
}

fn request(method: Method, path: &str, query: &[(&str, &str)], body: &[u8], region: &str) -> AwsRequest {
    AwsRequest {
        method,
        segments: crate::protocol::decode_segments(path),
        raw_path: path.to_owned(),
        query: query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        headers: http::HeaderMap::new(),
        body: Bytes::copy_from_slice(body),
        ctx: RequestContext {
            request_id: "req-1".into(),
            region: region.into(),
            caller: Caller::Account { account_id: ACCOUNT.into(), access_key_id: ACCOUNT.into() },
            endpoint: "http://127.0.0.1:4566".into(),
        },
    }
}

/// Images of other registries (none runs in Docker here): every one can be pulled, or, with `latest_missing`, those
/// tagged `latest` were never pushed.
struct ForeignImages {
    latest_missing: bool,
}

const NO_REGISTRY: ForeignImages = ForeignImages { latest_missing: false };
const LATEST_MISSING: ForeignImages = ForeignImages { latest_missing: true };

impl Images for ForeignImages {
    fn pull_error(&self, image: &str) -> Option<String> {
        (self.latest_missing && image.ends_with(":latest"))
            .then(|| format!("CannotPullContainerError: {image}: not found"))
    }

    fn is_local(&self, _: &str) -> bool {
        false
    }

    fn manifest_digest(&self, _: &str) -> Option<String> {
        None
    }

    fn credentials(&self, _: &str, _: &str) -> (String, String) {
        (String::new(), String::new())
    }
}

/// Refuses everything, and keeps what it was asked.
#[derive(Default)]
struct DenyAndRecord {
    seen: Mutex<Vec<(String, Vec<String>)>>,
}

impl Authorize for DenyAndRecord {
    fn authorize(&self, _: &Caller, action: &str, resources: &[String], _: &Context) -> Result<(), Denial> {
        self.seen.lock().expect("not poisoned").push((action.to_owned(), resources.to_vec()));
        Err(Denial { message: format!("User: x is not authorized to perform: {action}") })
    }
}

struct Fixture {
    batch: Batch,
    clock: Arc<AtomicI64>,
}

impl Fixture {
    fn new() -> Self {
        Self::with_step(Duration::from_millis(STEP as u64))
    }

    fn with_step(step: Duration) -> Self {
        let clock = Arc::new(AtomicI64::new(T0));
        let reader = Arc::clone(&clock);
        let batch = Batch::with_clock(
            BatchConfig { state_duration: step, containers: super::JobRunner::Simulate },
            Arc::new(move || reader.load(Ordering::SeqCst)),
            Arc::new(crate::services::logs::Logs::new()),
        );
        Self { batch, clock }
    }

    fn advance(&self, ms: i64) {
        self.clock.fetch_add(ms, Ordering::SeqCst);
    }

    fn call(&self, op: &str, body: Value) -> AwsResult<Value> {
        self.call_in(REGION, op, body)
    }

    fn call_in(&self, region: &str, op: &str, body: Value) -> AwsResult<Value> {
        let body = serde_json::to_vec(&body).expect("JSON");
        self.batch.dispatch(&request(Method::POST, &format!("/v1/{op}"), &[], &body, region), &AllowAll, &NO_REGISTRY)
    }

    fn ok(&self, op: &str, body: Value) -> Value {
        self.call(op, body).unwrap_or_else(|e| panic!("{op} failed: {e}"))
    }

    /// The runbook's setup: Fargate CE, queue, CrtsAwsJD registered twice (revision 2 has Ref:: placeholders).
    fn crts_setup(&self) {
        self.ok("createcomputeenvironment", fargate_ce("crts-ce"));
        self.ok(
            "createjobqueue",
            json!({"jobQueueName": "crts-aws-jq", "state": "ENABLED", "priority": 1,
                   "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "crts-ce"}]}),
        );
        self.ok("registerjobdefinition", fargate_definition("CrtsAwsJD", "busybox", None));
        self.ok(
            "registerjobdefinition",
            json!({
                "jobDefinitionName": "CrtsAwsJD", "type": "container", "platformCapabilities": ["FARGATE"],
                "parameters": {"suite": "smoke", "target": "default"},
                "containerProperties": {
                    "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/crts:latest",
                    "command": ["/crts/run", "Ref::suite", "Ref::target"],
                    "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
                    "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
                    "networkConfiguration": {"assignPublicIp": "ENABLED"},
                },
            }),
        );
    }

    fn submit(&self, body: Value) -> String {
        self.ok("submitjob", body)["jobId"].as_str().expect("jobId").to_owned()
    }

    fn job(&self, id: &str) -> Value {
        self.ok("describejobs", json!({"jobs": [id]}))["jobs"][0].clone()
    }

    fn status(&self, id: &str) -> String {
        self.job(id)["status"].as_str().expect("status").to_owned()
    }
}

fn fargate_ce(name: &str) -> Value {
    json!({"computeEnvironmentName": name, "type": "MANAGED", "state": "ENABLED",
           "computeResources": {"type": "FARGATE", "maxvCpus": 4, "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]}})
}

fn fargate_definition(name: &str, image: &str, network: Option<&str>) -> Value {
    let mut container = json!({
        "image": image,
        "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
    });
    if let Some(ip) = network {
        container["networkConfiguration"] = json!({"assignPublicIp": ip});
    }
    json!({"jobDefinitionName": name, "type": "container", "platformCapabilities": ["FARGATE"],
           "containerProperties": container})
}

/// Asserts a 400 ClientException whose message contains `fragment`.
fn assert_client_error(result: AwsResult<Value>, fragment: &str) {
    match result {
        Ok(v) => panic!("expected ClientException containing {fragment:?}, got {v}"),
        Err(e) => {
            assert_eq!((e.status.as_u16(), e.code.as_ref()), (400, "ClientException"), "{e}");
            assert!(e.message.contains(fragment), "{:?} does not contain {fragment:?}", e.message);
        }
    }
}

#[test]
fn the_crts_setup_and_a_job_that_succeeds() {
    let f = Fixture::new();
    f.crts_setup();
    let described =
        f.ok("describecomputeenvironments", json!({"computeEnvironments": [arn("compute-environment/crts-ce")]}));
    let ce = &described["computeEnvironments"][0];
    assert_eq!(ce["computeEnvironmentName"], "crts-ce");
    assert_eq!(
        (ce["state"].as_str(), ce["status"].as_str(), ce["type"].as_str()),
        (Some("ENABLED"), Some("VALID"), Some("MANAGED"))
    );
    assert_eq!(ce["computeResources"]["type"], "FARGATE");
    let queue = &f.ok("describejobqueues", json!({"jobQueues": ["crts-aws-jq"]}))["jobQueues"][0];
    assert_eq!(
        queue["computeEnvironmentOrder"],
        json!([{"order": 1, "computeEnvironment": arn("compute-environment/crts-ce")}])
    );
    assert_eq!(queue["jobQueueArn"], arn("job-queue/crts-aws-jq"));

    let submitted = f.ok(
        "submitjob",
        json!({"jobName": "crts-run", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD:2",
               "parameters": {"suite": "full"}}),
    );
    let id = submitted["jobId"].as_str().expect("jobId");
    assert_eq!(submitted["jobArn"], arn(&format!("job/{id}")));
    assert_eq!(submitted["jobName"], "crts-run");

    let job = f.job(id);
    assert_eq!(job["status"], "SUBMITTED");
    assert_eq!(job["jobQueue"], arn("job-queue/crts-aws-jq"));
    assert_eq!(job["jobDefinition"], arn("job-definition/CrtsAwsJD:2"));
    assert_eq!(job["parameters"], json!({"suite": "full", "target": "default"}));
    assert_eq!(job["container"]["command"], json!(["/crts/run", "full", "default"]));
    assert_eq!(job["container"]["networkConfiguration"], json!({"assignPublicIp": "ENABLED"}));
    assert_eq!(job["container"]["executionRoleArn"], "arn:aws:iam::123456789012:role/ecsTaskExecutionRole");
    assert_eq!(job["createdAt"], T0);
    assert_eq!(job["platformCapabilities"], json!(["FARGATE"]));
    assert!(job.get("startedAt").is_none() && job["container"].get("taskArn").is_none());

    f.advance(STEP);
    assert_eq!(f.status(id), "RUNNABLE");
    f.advance(STEP);
    let starting = f.job(id);
    assert_eq!(starting["status"], "STARTING");
    let log_stream = starting["container"]["logStreamName"].as_str().expect("log stream");
    assert!(log_stream.starts_with("CrtsAwsJD/default/"), "{log_stream}");
    assert!(starting["container"]["taskArn"].as_str().is_some_and(|t| t.contains(":task/AWSBatch-crts-ce-")));
    f.advance(STEP);
    let running = f.job(id);
    assert_eq!((running["status"].as_str(), running["startedAt"].as_i64()), (Some("RUNNING"), Some(T0 + 3 * STEP)));
    let listed = f.ok("listjobs", json!({"jobQueue": "crts-aws-jq"}));
    assert_eq!(listed["jobSummaryList"][0]["jobId"], id, "ListJobs without status lists RUNNING jobs");
    f.advance(STEP);
    let done = f.job(id);
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(done["stoppedAt"], T0 + 4 * STEP);
    assert_eq!(done["container"]["exitCode"], 0);
    assert_eq!(done["attempts"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        done["statusReason"],
        "Essential container in task exited (simulated by crts-emulator: no container ran)"
    );
    assert_eq!(f.ok("listjobs", json!({"jobQueue": "crts-aws-jq"}))["jobSummaryList"], json!([]));
    let succeeded = f.ok("listjobs", json!({"jobQueue": arn("job-queue/crts-aws-jq"), "jobStatus": "SUCCEEDED"}));
    assert_eq!(succeeded["jobSummaryList"][0]["container"]["exitCode"], 0);
}

#[test]
fn a_zero_state_duration_succeeds_at_once() {
    let f = Fixture::with_step(Duration::ZERO);
    f.crts_setup();
    let id = f.submit(json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD"}));
    assert_eq!(f.status(&id), "SUCCEEDED");
}

#[test]
fn job_definitions_resolve_by_name_revision_and_arn() {
    let f = Fixture::new();
    f.crts_setup();
    let latest = f.submit(json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD"}));
    assert_eq!(f.job(&latest)["jobDefinition"], arn("job-definition/CrtsAwsJD:2"));
    let by_arn = f.submit(json!({"jobName": "j", "jobQueue": arn("job-queue/crts-aws-jq"),
                                 "jobDefinition": arn("job-definition/CrtsAwsJD:1")}));
    let job = f.job(&by_arn);
    assert_eq!(job["jobDefinition"], arn("job-definition/CrtsAwsJD:1"));
    assert_eq!(job["container"]["networkConfiguration"], json!({"assignPublicIp": "DISABLED"}));
    f.ok("deregisterjobdefinition", json!({"jobDefinition": "CrtsAwsJD:2"}));
    let after = f.submit(json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD"}));
    assert_eq!(f.job(&after)["jobDefinition"], arn("job-definition/CrtsAwsJD:1"), "latest ACTIVE revision");
    let third = f.ok("registerjobdefinition", fargate_definition("CrtsAwsJD", "busybox", None));
    assert_eq!(third["revision"], 3, "revisions are never reused");
    assert_eq!(third["jobDefinitionArn"], arn("job-definition/CrtsAwsJD:3"));
}

#[test]
fn submit_job_refusals() {
    let f = Fixture::new();
    f.crts_setup();
    f.ok("deregisterjobdefinition", json!({"jobDefinition": arn("job-definition/CrtsAwsJD:1")}));
    f.ok("createcomputeenvironment", fargate_ce("off-ce"));
    f.ok(
        "createjobqueue",
        json!({"jobQueueName": "off-q", "state": "DISABLED", "priority": 1,
                                  "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "off-ce"}]}),
    );
    let submit = |queue: &str, definition: &str, extra: Value| {
        let mut body = json!({"jobName": "crts-run", "jobQueue": queue, "jobDefinition": definition});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
            b.extend(e);
        }
        f.call("submitjob", body)
    };
    let cases: [(&str, &str, Value, &str); 9] = [
        ("crts-aws-jq-typo", "CrtsAwsJD:2", json!({}), "JobQueue crts-aws-jq-typo not found."),
        (
            "crts-aws-jq",
            "CrtsAwsJD:9",
            json!({}),
            "JobDefinition CrtsAwsJD:9 does not exist or is not in ACTIVE status",
        ),
        (
            "crts-aws-jq",
            "CrtsAwsJD:1",
            json!({}),
            "JobDefinition CrtsAwsJD:1 does not exist or is not in ACTIVE status",
        ),
        ("crts-aws-jq", "Nope", json!({}), "JobDefinition Nope does not exist or is not in ACTIVE status"),
        ("off-q", "CrtsAwsJD:2", json!({}), "JobQueue off-q is not in ENABLED state."),
        ("crts-aws-jq", "CrtsAwsJD:2", json!({"jobName": "-bad"}), "Job name must be"),
        (
            "crts-aws-jq",
            "CrtsAwsJD:2",
            json!({"containerOverrides": {"resourceRequirements": [{"type": "MEMORY", "value": "4000"}]}}),
            "Fargate resource requirements (1.00 vCPU, 4000 MiB) not valid.",
        ),
        (
            "crts-aws-jq",
            "CrtsAwsJD:2",
            json!({"containerOverrides": {"environment": [{"name": "AWS_BATCH_X", "value": "1"}]}}),
            "reserved",
        ),
        ("crts-aws-jq", "CrtsAwsJD:2", json!({"timeout": {"attemptDurationSeconds": 5}}), "60 seconds"),
    ];
    for (queue, definition, extra, message) in cases {
        assert_client_error(submit(queue, definition, extra), message);
    }
    assert_client_error(
        f.call("submitjob", json!({"jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD"})),
        "'jobName'",
    );
    let array = submit("crts-aws-jq", "CrtsAwsJD:2", json!({"arrayProperties": {"size": 2}}));
    assert_eq!(array.map_err(|e| e.status.as_u16()), Err(501));
}

#[test]
fn overrides_merge_into_the_definition() {
    let f = Fixture::new();
    f.crts_setup();
    let id = f.submit(json!({
        "jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD:2",
        "containerOverrides": {
            "command": ["echo", "Ref::target"],
            "environment": [{"name": "A", "value": "1"}],
            "resourceRequirements": [{"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "4096"}],
        },
        "tags": {"team": "crts"},
    }));
    let job = f.job(&id);
    assert_eq!(job["container"]["command"], json!(["echo", "default"]));
    assert_eq!(job["container"]["environment"], json!([{"name": "A", "value": "1"}]));
    assert_eq!(
        job["container"]["resourceRequirements"],
        json!([{"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "4096"}])
    );
    assert_eq!(job["tags"], json!({"team": "crts"}));
}

#[test]
fn register_job_definition_refusals() {
    let f = Fixture::new();
    let fargate = |container: Value| json!({"jobDefinitionName": "d", "type": "container", "platformCapabilities": ["FARGATE"], "containerProperties": container});
    let role = "arn:aws:iam::123456789012:role/r";
    let cases: [(Value, &str); 9] = [
        (
            fargate(
                json!({"image": "i", "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]}),
            ),
            "executionRoleArn is required",
        ),
        (
            fargate(
                json!({"image": "i", "executionRoleArn": role, "resourceRequirements": [{"type": "MEMORY", "value": "2048"}]}),
            ),
            "vCPU is not provided.",
        ),
        (
            fargate(
                json!({"image": "i", "executionRoleArn": role, "resourceRequirements": [{"type": "VCPU", "value": "1"}]}),
            ),
            "Memory is not provided.",
        ),
        (
            fargate(json!({"image": "i", "executionRoleArn": role,
                           "resourceRequirements": [{"type": "VCPU", "value": "0.25"}, {"type": "MEMORY", "value": "4096"}]})),
            "Fargate resource requirements (0.25 vCPU, 4096 MiB) not valid.",
        ),
        (
            fargate(json!({"image": "i", "executionRoleArn": role, "vcpus": 1,
                           "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]})),
            "vcpus is not applicable for Fargate",
        ),
        (fargate(json!({"executionRoleArn": role})), "Image is not provided."),
        (json!({"jobDefinitionName": "d", "type": "container"}), "containerProperties must be provided"),
        (
            json!({"jobDefinitionName": "d", "type": "batch", "containerProperties": {"image": "i"}}),
            "Invalid type batch",
        ),
        (
            json!({"jobDefinitionName": "bad name", "type": "container", "containerProperties": {"image": "i"}}),
            "name must be",
        ),
    ];
    for (body, message) in cases {
        assert_client_error(f.call("registerjobdefinition", body), message);
    }
    assert_client_error(
        f.call("registerjobdefinition", json!({"type": "container"})),
        "Value null at 'jobDefinitionName'",
    );
    let multinode = f.call("registerjobdefinition", json!({"jobDefinitionName": "d", "type": "multinode"}));
    assert_eq!(multinode.map_err(|e| e.status.as_u16()), Err(501));
    // EC2 needs no execution role and takes whole vCPUs.
    let ec2 = f.ok(
        "registerjobdefinition",
        json!({"jobDefinitionName": "d", "type": "container", "containerProperties":
               {"image": "i", "resourceRequirements": [{"type": "VCPU", "value": "2"}, {"type": "MEMORY", "value": "1000"}]}}),
    );
    assert_eq!(ec2["revision"], 1);
    assert_eq!(
        f.ok("describejobdefinitions", json!({"jobDefinitions": ["d:1"]}))["jobDefinitions"][0]["platformCapabilities"],
        json!(["EC2"])
    );
}

#[test]
fn describe_and_deregister_job_definitions() {
    let f = Fixture::new();
    f.ok("registerjobdefinition", fargate_definition("jd", "busybox", None));
    f.ok("registerjobdefinition", fargate_definition("jd", "busybox", Some("ENABLED")));
    f.ok("registerjobdefinition", fargate_definition("other", "busybox", None));
    let revisions = |body: Value| -> Vec<String> {
        f.ok("describejobdefinitions", body)["jobDefinitions"]
            .as_array()
            .expect("list")
            .iter()
            .map(|d| {
                format!(
                    "{}:{}:{}",
                    d["jobDefinitionName"].as_str().unwrap_or(""),
                    d["revision"],
                    d["status"].as_str().unwrap_or("")
                )
            })
            .collect()
    };
    assert_eq!(revisions(json!({})), ["jd:1:ACTIVE", "jd:2:ACTIVE", "other:1:ACTIVE"]);
    assert_eq!(revisions(json!({"jobDefinitions": ["jd"]})), ["jd:1:ACTIVE", "jd:2:ACTIVE"]);
    assert_eq!(revisions(json!({"jobDefinitions": [arn("job-definition/jd:2"), "nope:1"]})), ["jd:2:ACTIVE"]);
    assert_eq!(revisions(json!({"jobDefinitionName": "other"})), ["other:1:ACTIVE"]);

    let first = &f.ok("describejobdefinitions", json!({"jobDefinitions": ["jd:1"]}))["jobDefinitions"][0];
    assert_eq!(first["containerProperties"]["networkConfiguration"], json!({"assignPublicIp": "DISABLED"}));
    assert_eq!(first["containerProperties"]["fargatePlatformConfiguration"], json!({"platformVersion": "LATEST"}));
    assert_eq!(first["type"], "container");
    let second = &f.ok("describejobdefinitions", json!({"jobDefinitions": ["jd:2"]}))["jobDefinitions"][0];
    assert_eq!(second["containerProperties"]["networkConfiguration"], json!({"assignPublicIp": "ENABLED"}));

    f.ok("deregisterjobdefinition", json!({"jobDefinition": "jd:1"}));
    assert_eq!(revisions(json!({"jobDefinitionName": "jd", "status": "ACTIVE"})), ["jd:2:ACTIVE"]);
    assert_eq!(revisions(json!({"status": "INACTIVE"})), ["jd:1:INACTIVE"]);
    assert_client_error(f.call("deregisterjobdefinition", json!({"jobDefinition": "jd:1"})), "not in ACTIVE status");
    assert_client_error(f.call("deregisterjobdefinition", json!({"jobDefinition": "jd"})), "must be name:revision");
    let page = f.ok("describejobdefinitions", json!({"maxResults": 2}));
    assert_eq!(page["jobDefinitions"].as_array().map(Vec::len), Some(2));
    let rest = f.ok("describejobdefinitions", json!({"maxResults": 2, "nextToken": page["nextToken"]}));
    assert_eq!(rest["jobDefinitions"].as_array().map(Vec::len), Some(1));
    assert!(rest.get("nextToken").is_none());
    assert_client_error(f.call("describejobdefinitions", json!({"nextToken": "garbage"})), "nextToken");
}

#[test]
fn compute_environment_lifecycle_and_refusals() {
    let f = Fixture::new();
    f.crts_setup();
    assert_client_error(f.call("createcomputeenvironment", fargate_ce("crts-ce")), "Object already exists");
    assert_client_error(
        f.call("createcomputeenvironment", json!({"computeEnvironmentName": "m", "type": "MANAGED"})),
        "computeResources must be provided",
    );
    assert_client_error(
        f.call("createcomputeenvironment", json!({"computeEnvironmentName": "m", "type": "MANAGED",
                                                  "computeResources": {"type": "LAMBDA", "maxvCpus": 1, "subnets": []}})),
        "Invalid computeResources.type",
    );
    assert_client_error(
        f.call("createcomputeenvironment", json!({"computeEnvironmentName": "m", "type": "OTHER"})),
        "Invalid type",
    );
    let unmanaged = f.ok("createcomputeenvironment", json!({"computeEnvironmentName": "u", "type": "UNMANAGED"}));
    assert_eq!(unmanaged["computeEnvironmentArn"], arn("compute-environment/u"));

    assert_client_error(
        f.call("deletecomputeenvironment", json!({"computeEnvironment": "crts-ce"})),
        "must be DISABLED",
    );
    let updated = f.ok(
        "updatecomputeenvironment",
        json!({"computeEnvironment": "crts-ce", "state": "DISABLED",
                                                           "computeResources": {"maxvCpus": 16}}),
    );
    assert_eq!(updated["computeEnvironmentArn"], arn("compute-environment/crts-ce"));
    let ce =
        &f.ok("describecomputeenvironments", json!({"computeEnvironments": ["crts-ce"]}))["computeEnvironments"][0];
    assert_eq!((ce["state"].as_str(), ce["computeResources"]["maxvCpus"].as_i64()), (Some("DISABLED"), Some(16)));
    assert_eq!(ce["computeResources"]["subnets"], json!(["subnet-1"]));
    assert_client_error(
        f.call("deletecomputeenvironment", json!({"computeEnvironment": "crts-ce"})),
        "Cannot delete, found existing JobQueue relationship",
    );
    assert_client_error(f.call("deletejobqueue", json!({"jobQueue": "crts-aws-jq"})), "must be DISABLED");
    f.ok("updatejobqueue", json!({"jobQueue": arn("job-queue/crts-aws-jq"), "state": "DISABLED", "priority": 5}));
    assert_eq!(f.ok("describejobqueues", json!({}))["jobQueues"][0]["priority"], 5);
    f.ok("deletejobqueue", json!({"jobQueue": "crts-aws-jq"}));
    f.ok("deletecomputeenvironment", json!({"computeEnvironment": arn("compute-environment/crts-ce")}));
    let names: Vec<Value> = f.ok("describecomputeenvironments", json!({}))["computeEnvironments"]
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["computeEnvironmentName"].clone())
        .collect();
    assert_eq!(names, [json!("u")]);
    assert_eq!(f.ok("describejobqueues", json!({"jobQueues": ["crts-aws-jq"]}))["jobQueues"], json!([]));
    assert_client_error(f.call("deletecomputeenvironment", json!({"computeEnvironment": "crts-ce"})), "not found");
    assert_client_error(f.call("updatecomputeenvironment", json!({"computeEnvironment": "gone"})), "not found");
    assert_client_error(f.call("updatejobqueue", json!({"jobQueue": "gone"})), "JobQueue gone not found.");
}

#[test]
fn job_queue_refusals() {
    let f = Fixture::new();
    for name in ["a", "b", "c", "d"] {
        f.ok("createcomputeenvironment", fargate_ce(name));
    }
    f.ok(
        "createcomputeenvironment",
        json!({"computeEnvironmentName": "ec2", "type": "MANAGED",
        "computeResources": {"type": "EC2", "maxvCpus": 4, "subnets": ["s"], "instanceTypes": ["optimal"]}}),
    );
    let queue = |name: &str, order: Value| {
        f.call("createjobqueue", json!({"jobQueueName": name, "priority": 1, "computeEnvironmentOrder": order}))
    };
    let entry = |order: i64, ce: &str| json!({"order": order, "computeEnvironment": ce});
    assert_client_error(queue("q", json!([entry(1, "nope")])), "ComputeEnvironment nope not found.");
    assert_client_error(queue("q", json!([entry(1, "a"), entry(2, "b"), entry(3, "c"), entry(4, "d")])), "at most 3");
    assert_client_error(queue("q", json!([entry(1, "a"), entry(1, "b")])), "Duplicate order 1");
    assert_client_error(queue("q", json!([entry(1, "a"), entry(2, "ec2")])), "cannot mix Fargate and EC2");
    assert_client_error(queue("q", json!([])), "at least one compute environment");
    assert_client_error(
        f.call("createjobqueue", json!({"jobQueueName": "q", "computeEnvironmentOrder": [entry(1, "a")]})),
        "'priority'",
    );
    let created = queue("q", json!([entry(2, "b"), entry(1, &arn("compute-environment/a"))])).expect("created");
    assert_eq!(created["jobQueueArn"], arn("job-queue/q"));
    let described = &f.ok("describejobqueues", json!({"jobQueues": [arn("job-queue/q")]}))["jobQueues"][0];
    assert_eq!(described["computeEnvironmentOrder"][0]["computeEnvironment"], arn("compute-environment/a"));
    assert_eq!(described["state"], "ENABLED");
    assert_client_error(queue("q", json!([entry(1, "a")])), "Object already exists");
}

#[test]
fn cancel_and_terminate() {
    let f = Fixture::new();
    f.crts_setup();
    let submit = || f.submit(json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD:2"}));
    let early = submit();
    f.ok("canceljob", json!({"jobId": early, "reason": "not needed"}));
    let job = f.job(&early);
    assert_eq!((job["status"].as_str(), job["statusReason"].as_str()), (Some("FAILED"), Some("not needed")));
    assert_eq!((job["isCancelled"].as_bool(), job["stoppedAt"].as_i64()), (Some(true), Some(T0)));
    assert!(job.get("startedAt").is_none());

    let running = submit();
    let terminated = submit();
    f.advance(3 * STEP + 10);
    f.ok("canceljob", json!({"jobId": running, "reason": "too late"}));
    assert_eq!(f.status(&running), "RUNNING", "CancelJob leaves RUNNING jobs alone");
    f.ok("terminatejob", json!({"jobId": arn(&format!("job/{terminated}")), "reason": "stop"}));
    let job = f.job(&terminated);
    assert_eq!((job["status"].as_str(), job["statusReason"].as_str()), (Some("FAILED"), Some("stop")));
    assert_eq!((job["startedAt"].as_i64(), job["stoppedAt"].as_i64()), (Some(T0 + 3 * STEP), Some(T0 + 3 * STEP + 10)));
    assert_eq!(job["isTerminated"], true);
    f.advance(STEP);
    assert_eq!(f.status(&running), "SUCCEEDED");
    assert_eq!(f.status(&terminated), "FAILED", "a forced state is final");
    f.ok("terminatejob", json!({"jobId": running, "reason": "after the fact"}));
    assert_eq!(f.status(&running), "SUCCEEDED");
    assert_client_error(f.call("terminatejob", json!({"jobId": "nope", "reason": "r"})), "Job nope not found.");
    assert_client_error(f.call("canceljob", json!({"jobId": early})), "'reason'");
}

#[test]
fn list_jobs_filters_statuses_and_pages() {
    let f = Fixture::new();
    f.crts_setup();
    let first = f.submit(json!({"jobName": "crts-run-1", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD:1"}));
    f.advance(10);
    let second = f.submit(json!({"jobName": "other", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD:2"}));
    let ids = |body: Value| -> Vec<String> {
        f.ok("listjobs", body)["jobSummaryList"]
            .as_array()
            .expect("list")
            .iter()
            .map(|j| j["jobId"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let q = "crts-aws-jq";
    assert_eq!(ids(json!({"jobQueue": q})), Vec::<String>::new(), "only RUNNING jobs by default");
    assert_eq!(ids(json!({"jobQueue": q, "jobStatus": "SUBMITTED"})), [first.as_str(), second.as_str()]);
    let filter = |name: &str, value: &str| json!({"jobQueue": q, "filters": [{"name": name, "values": [value]}]});
    assert_eq!(ids(filter("JOB_NAME", "CRTS-*")), [first.as_str()]);
    assert_eq!(ids(filter("JOB_NAME", "other")), [second.as_str()]);
    assert_eq!(ids(filter("JOB_DEFINITION", "CrtsAwsJD:2")), [second.as_str()]);
    assert_eq!(ids(filter("JOB_DEFINITION", "CrtsAwsJD")), [first.as_str(), second.as_str()]);
    assert_eq!(ids(filter("JOB_DEFINITION", &arn("job-definition/CrtsAwsJD:1"))), [first.as_str()]);
    assert_eq!(ids(filter("AFTER_CREATED_AT", &T0.to_string())), [second.as_str()]);
    assert_eq!(ids(filter("BEFORE_CREATED_AT", &(T0 + 5).to_string())), [first.as_str()]);
    let page = f.ok("listjobs", json!({"jobQueue": q, "jobStatus": "SUBMITTED", "maxResults": 1}));
    assert_eq!(page["jobSummaryList"][0]["jobId"], first.as_str());
    assert_eq!(
        ids(json!({"jobQueue": q, "jobStatus": "SUBMITTED", "nextToken": page["nextToken"]})),
        [second.as_str()]
    );

    assert_client_error(f.call("listjobs", json!({})), "jobQueue");
    assert_client_error(f.call("listjobs", json!({"jobQueue": "nope"})), "JobQueue nope not found.");
    assert_client_error(f.call("listjobs", json!({"jobQueue": q, "jobStatus": "DONE"})), "Invalid jobStatus");
    assert_client_error(f.call("listjobs", filter("COLOR", "red")), "Invalid filter name");
    assert_client_error(f.call("listjobs", filter("AFTER_CREATED_AT", "yesterday")), "epoch milliseconds");
    assert_eq!(f.ok("listjobs", json!({"arrayJobId": "x"}))["jobSummaryList"], json!([]));
}

#[test]
fn describe_jobs_skips_unknown_ids_and_accepts_arns() {
    let f = Fixture::new();
    f.crts_setup();
    let id = f.submit(json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD:2"}));
    let jobs = f.ok("describejobs", json!({"jobs": ["unknown", id, arn(&format!("job/{id}"))]}))["jobs"].clone();
    assert_eq!(jobs.as_array().map(Vec::len), Some(2));
    assert_client_error(f.call("describejobs", json!({})), "'jobs'");
    let too_many: Vec<String> = (0..101).map(|i| i.to_string()).collect();
    assert_client_error(f.call("describejobs", json!({"jobs": too_many})), "at most 100");
}

#[test]
fn a_fargate_job_on_an_ec2_queue_stays_runnable() {
    let f = Fixture::new();
    f.crts_setup();
    f.ok(
        "createcomputeenvironment",
        json!({"computeEnvironmentName": "ec2", "type": "MANAGED",
        "computeResources": {"type": "EC2", "maxvCpus": 4, "subnets": ["s"]}}),
    );
    f.ok(
        "createjobqueue",
        json!({"jobQueueName": "ec2-q", "priority": 1,
        "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ec2"}]}),
    );
    let id = f.submit(json!({"jobName": "j", "jobQueue": "ec2-q", "jobDefinition": "CrtsAwsJD:2"}));
    f.advance(100 * STEP);
    assert_eq!(f.status(&id), "RUNNABLE");
    f.ok("canceljob", json!({"jobId": id, "reason": "stuck"}));
    assert_eq!(f.status(&id), "FAILED");
}

#[test]
fn a_job_whose_image_cannot_be_pulled_fails_to_start() {
    let f = Fixture::new();
    f.crts_setup();
    let body = serde_json::to_vec(&json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD:2"}))
        .expect("JSON");
    let submitted = f
        .batch
        .dispatch(&request(Method::POST, "/v1/submitjob", &[], &body, REGION), &AllowAll, &LATEST_MISSING)
        .expect("SubmitJob answers");
    let id = submitted["jobId"].as_str().expect("jobId").to_owned();
    f.advance(2 * STEP);
    assert_eq!(f.status(&id), "STARTING");
    f.advance(STEP);
    let job = f.job(&id);
    assert_eq!((job["status"].as_str(), job["statusReason"].as_str()), (Some("FAILED"), Some("Task failed to start")));
    let reason = "CannotPullContainerError: 123456789012.dkr.ecr.us-east-1.amazonaws.com/crts:latest: not found";
    assert_eq!(job["container"]["reason"], reason);
    assert_eq!(job["attempts"][0]["container"]["reason"], reason);
    assert!(job.get("startedAt").is_none() && job["stoppedAt"].is_i64(), "{job}");
    assert!(job["container"].get("exitCode").is_none(), "{job}");
    f.ok("terminatejob", json!({"jobId": id, "reason": "too late"}));
    assert_eq!(f.job(&id)["statusReason"], "Task failed to start", "a finished job stays as it ended");
}

#[test]
fn authorization_names_the_queue_and_definition_revision() {
    let f = Fixture::new();
    f.crts_setup();
    let deny = DenyAndRecord::default();
    let seen = || deny.seen.lock().expect("not poisoned");
    let body = serde_json::to_vec(&json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD"}))
        .expect("JSON");
    let err = f
        .batch
        .dispatch(&request(Method::POST, "/v1/submitjob", &[], &body, REGION), &deny, &NO_REGISTRY)
        .expect_err("denied");
    assert_eq!((err.status.as_u16(), err.code.as_ref()), (403, "AccessDeniedException"));
    assert_eq!(err.message, "User: x is not authorized to perform: batch:SubmitJob");
    assert_eq!(
        seen().as_slice(),
        [("batch:SubmitJob".to_owned(), vec![arn("job-queue/crts-aws-jq"), arn("job-definition/CrtsAwsJD:2")])]
    );
    let listed =
        f.batch.dispatch(&request(Method::POST, "/v1/describejobqueues", &[], b"{}", REGION), &deny, &NO_REGISTRY);
    assert_eq!(listed.map_err(|e| e.status.as_u16()), Err(403));
    assert_eq!(
        seen().last().map(|(a, r)| (a.as_str(), r.clone())),
        Some(("batch:DescribeJobQueues", vec!["*".to_owned()]))
    );
    assert_eq!(
        f.ok("listjobs", json!({"jobQueue": "crts-aws-jq", "jobStatus": "SUBMITTED"}))["jobSummaryList"],
        json!([])
    );
}

#[test]
fn malformed_requests_and_unknown_routes() {
    let f = Fixture::new();
    let raw = |method: Method, path: &str, body: &[u8]| {
        f.batch.dispatch(&request(method, path, &[], body, REGION), &AllowAll, &NO_REGISTRY)
    };
    let err = raw(Method::POST, "/v1/submitjob", b"[1,2").expect_err("bad JSON");
    assert_eq!((err.status.as_u16(), err.code.as_ref()), (400, "SerializationException"));
    assert_eq!(raw(Method::POST, "/v1/createjobqueue", b"\"a string\"").map_err(|e| e.status.as_u16()), Err(400));
    assert_client_error(raw(Method::POST, "/v1/submitjob", b"{}"), "Member must not be null");
    for (method, path) in
        [(Method::POST, "/v1/createschedulingpolicy"), (Method::GET, "/v1/submitjob"), (Method::POST, "/v2/x")]
    {
        let err = raw(method, path, b"{}").expect_err("no such operation here");
        assert_eq!((err.status.as_u16(), err.code.as_ref()), (404, "UnknownOperationException"), "{path}");
    }
    let wrong_type = raw(Method::POST, "/v1/createjobqueue", br#"{"jobQueueName": 5, "priority": 1}"#);
    assert_eq!(wrong_type.map_err(|e| e.status.as_u16()), Err(400));
    // The operation name is case-insensitive, as the URIs are lowercase but some clients send camel case.
    assert!(raw(Method::POST, "/v1/DescribeJobQueues", b"").is_ok());
}

#[test]
fn tags_on_resources() {
    let f = Fixture::new();
    f.crts_setup();
    let queue_arn = arn("job-queue/crts-aws-jq");
    let encoded = queue_arn.replace(':', "%3A").replace('/', "%2F");
    let path = format!("/v1/tags/{encoded}");
    let call = |method: Method, query: &[(&str, &str)], body: &[u8]| {
        f.batch.dispatch(&request(method, &path, query, body, REGION), &AllowAll, &NO_REGISTRY)
    };
    call(Method::POST, &[], br#"{"tags": {"a": "1", "b": "2"}}"#).expect("tagged");
    assert_eq!(call(Method::GET, &[], b"").expect("listed"), json!({"tags": {"a": "1", "b": "2"}}));
    call(Method::DELETE, &[("tagKeys", "a")], b"").expect("untagged");
    assert_eq!(call(Method::GET, &[], b"").expect("listed"), json!({"tags": {"b": "2"}}));
    assert_eq!(f.ok("describejobqueues", json!({}))["jobQueues"][0]["tags"], json!({"b": "2"}));
    assert_client_error(call(Method::DELETE, &[], b""), "'tagKeys'");
    let missing = f.batch.dispatch(
        &request(Method::GET, "/v1/tags/arn%3Aaws%3Abatch%3Ax", &[], b"", REGION),
        &AllowAll,
        &NO_REGISTRY,
    );
    assert_client_error(missing, "not found");
}

#[test]
fn resources_are_per_region() {
    let f = Fixture::new();
    f.crts_setup();
    let elsewhere = f.call_in("eu-west-1", "describejobqueues", json!({})).expect("described");
    assert_eq!(elsewhere["jobQueues"], json!([]));
    assert_client_error(
        f.call_in(
            "eu-west-1",
            "submitjob",
            json!({"jobName": "j", "jobQueue": "crts-aws-jq", "jobDefinition": "CrtsAwsJD"}),
        ),
        "JobQueue crts-aws-jq not found.",
    );
}

#[test]
fn describe_job_queues_pages_after_its_token_through_inserts() {
    use crate::services::pagination::test_support::assert_each_once;
    let f = Fixture::new();
    f.ok("createcomputeenvironment", fargate_ce("ce"));
    let create = |name: &str| {
        f.ok(
            "createjobqueue",
            json!({"jobQueueName": name, "priority": 1,
                   "computeEnvironmentOrder": [{"order": 1, "computeEnvironment": "ce"}]}),
        );
    };
    for name in ["q1", "q2", "q3", "q4", "q5"] {
        create(name);
    }
    let mut pages = Vec::new();
    let mut token = Value::Null;
    loop {
        let page = f.ok("describejobqueues", json!({"maxResults": 2, "nextToken": token}));
        let names = page["jobQueues"].as_array().expect("jobQueues").iter();
        pages.push(names.map(|q| q["jobQueueName"].as_str().unwrap_or_default().to_owned()).collect::<Vec<_>>());
        if pages.len() == 1 {
            create("q0"); // before the token: not served, and nothing repeats or shifts
            create("q9"); // after it: served once
        }
        match page.get("nextToken") {
            Some(next) => token = next.clone(),
            None => break,
        }
    }
    assert_each_once(&pages, &["q1", "q2", "q3", "q4", "q5", "q9"], 2);
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert_client_error(f.call("describejobqueues", json!({"nextToken": "2"})), "Invalid nextToken: 2");
    assert_client_error(f.call("describejobqueues", json!({"maxResults": 0})), "between 1 and 1000, got 0");
    assert_client_error(f.call("describecomputeenvironments", json!({"maxResults": 1001})), "got 1001");
    // A list the request names keeps the request's order.
    let named = f.ok("describejobqueues", json!({"jobQueues": ["q5", "q1"], "maxResults": 1}));
    assert_eq!(named["jobQueues"][0]["jobQueueName"], "q5");
    let rest = f.ok("describejobqueues", json!({"jobQueues": ["q5", "q1"], "nextToken": named["nextToken"]}));
    assert_eq!(rest["jobQueues"][0]["jobQueueName"], "q1");
}
