//! Job trigger, end to end: an authorised POST becomes an AWS Batch job on the runbook's queue and job
//! definition revision, with the request's parameters, and the job succeeds; wherever jobs really run (AWS, the
//! emulator with a Docker engine) its output in CloudWatch Logs shows that it ran with its parameters. A body the trigger
//! cannot read is refused with 400 and a message.

use std::time::Duration;

use aws_sdk_batch::types::{JobDetail, JobStatus};

use super::settings::Section;
use super::{Check, CheckSettings, Observation, Skip, invoke_url, send};
use crate::context::{RunContext, SideEffect};
use crate::poll::poll_until;
use crate::targets::capabilities::Capability;

pub struct JobTrigger;

impl Check for JobTrigger {
    const REQUIRES: &'static [Capability] = &[Capability::LambdaExecution, Capability::Batch];
    const NEEDS: &'static [Section] = &[Section::Api, Section::Trigger];
    const SIDE_EFFECT: Option<SideEffect> = Some(SideEffect::SubmitsJob);

    fn iam_actions(trigger_job: bool) -> &'static [&'static str] {
        if trigger_job { &["apigateway:GET", "batch:DescribeJobs", "logs:GetLogEvents"] } else { &[] }
    }

    async fn run(ctx: &RunContext, settings: &CheckSettings) -> Result<Vec<Observation>, Skip> {
        Ok(observe(ctx, settings).await)
    }
}

async fn observe(ctx: &RunContext, settings: &CheckSettings) -> Vec<Observation> {
    let (Some(api), Some(trigger)) = (&settings.api, &settings.trigger) else {
        return vec![Observation::new("settings", "api and trigger settings", "missing", false)];
    };
    let url = match invoke_url(ctx, api).await {
        Ok(url) => url,
        Err(e) => return vec![Observation::new("invoke URL", "the deployed API", e, false)],
    };
    let key = ctx.facts.api_keys.get(&api.api_key).map(|k| k.value.clone()).unwrap_or_default();
    let mut observations = Vec::new();

    let post = |body: String| {
        ctx.http.post(&url).header("Content-Type", "application/json").header("x-api-key", &key).body(body)
    };

    // A body the trigger cannot read is the caller's mistake: 400 with a message, and no job.
    let bad_body = "400 with a message";
    match send(post("{not json".to_owned())).await {
        Ok(a) => {
            let message = serde_json::from_str::<serde_json::Value>(&a.body)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_owned));
            let actual = match &message {
                Some(m) if a.status == 400 => format!("400 {m}"),
                _ => a.summary(),
            };
            observations.push(Observation::new(
                "POST with a malformed body",
                bad_body,
                actual,
                a.status == 400 && message.is_some(),
            ));
        }
        Err(e) => observations.push(Observation::new("POST with a malformed body", bad_body, e, false)),
    }

    let answer = send(post(trigger.body.to_string())).await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            observations.push(Observation::new("POST job trigger", "200 with a jobId", e, false));
            return observations;
        }
    };
    let response: serde_json::Value = serde_json::from_str(&answer.body).unwrap_or(serde_json::Value::Null);
    let job_id = response["jobId"].as_str().map(str::to_owned);
    let shape = if answer.status == 200 && job_id.is_some() {
        format!("200 {{jobId: <id>, jobName: {}}}", response["jobName"].as_str().unwrap_or("(absent)"))
    } else {
        answer.summary()
    };
    observations.push(Observation::new(
        "POST job trigger",
        "200 with a jobId",
        shape,
        answer.status == 200 && job_id.is_some(),
    ));
    let Some(job_id) = job_id else { return observations };
    if ctx.verify.is_some() {
        // A real job in the operator's account: its id is said, unredacted, for the console and the bill.
        eprintln!("--trigger-job: submitted Batch job {job_id} on {}", trigger.job_queue);
    }

    let described = ctx.batch.describe_jobs().jobs(&job_id).send().await;
    let job = match described {
        Ok(out) => out.jobs().first().cloned(),
        Err(e) => {
            let e = aws_smithy_types::error::display::DisplayErrorContext(&e).to_string();
            observations.push(Observation::new("DescribeJobs", "the submitted job", e, false));
            return observations;
        }
    };
    let Some(job) = job else {
        observations.push(Observation::new("DescribeJobs", "the submitted job", "not found", false));
        return observations;
    };

    let queue_arn =
        format!("arn:aws:batch:{}:{}:job-queue/{}", ctx.target.region, ctx.target.account_id, trigger.job_queue);
    let definition_arn = format!(
        "arn:aws:batch:{}:{}:job-definition/{}",
        ctx.target.region, ctx.target.account_id, trigger.job_definition
    );
    let normalize = |s: &str| s.replace(&ctx.target.account_id, "<account>").replace(&ctx.target.region, "<region>");
    let job_queue = job.job_queue().unwrap_or("(absent)");
    let job_definition = job.job_definition().unwrap_or("(absent)");
    observations.push(Observation::new(
        "job queue",
        normalize(&queue_arn),
        normalize(job_queue),
        job_queue == queue_arn,
    ));
    observations.push(Observation::new(
        "job definition",
        normalize(&definition_arn),
        normalize(job_definition),
        job_definition == definition_arn,
    ));
    let expected_parameters = &trigger.body["parameters"];
    let actual_parameters: serde_json::Map<String, serde_json::Value> = job
        .parameters()
        .map(|p| p.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect())
        .unwrap_or_default();
    let actual_parameters = serde_json::Value::Object(actual_parameters);
    let parameters_ok = expected_parameters
        .as_object()
        .is_none_or(|expected| expected.iter().all(|(k, v)| actual_parameters.get(k) == Some(v)));
    observations.push(Observation::new(
        "job parameters",
        expected_parameters.to_string(),
        actual_parameters.to_string(),
        parameters_ok,
    ));

    let batch = ctx.batch.clone();
    let finished = poll_until(Duration::from_secs(trigger.job_timeout_seconds), ctx.target.poll_interval(), || {
        let batch = batch.clone();
        let job_id = job_id.clone();
        async move {
            let out = batch
                .describe_jobs()
                .jobs(&job_id)
                .send()
                .await
                .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())?;
            let finished = out
                .jobs()
                .first()
                .filter(|j| j.status().is_some_and(|s| matches!(s, JobStatus::Succeeded | JobStatus::Failed)));
            Ok::<_, String>(finished.cloned())
        }
    })
    .await;
    let (mut actual, mut ok) = match &finished {
        Ok(Some(finished)) => {
            let status = finished.status().cloned().unwrap_or(JobStatus::Failed);
            (status.as_str().to_owned(), status == JobStatus::Succeeded)
        }
        Ok(None) => (format!("not finished after {} s", trigger.job_timeout_seconds), false),
        Err(e) => (e.clone(), false),
    };
    if let (true, Ok(Some(finished))) = (ok, &finished) {
        // Where the job really ran, its output must show its own parameters (whether they are the request's is the
        // observation above): the container ran the command with them substituted. A simulated job has no output:
        // the observation reads the same either way, so the snapshot is the contract on every target.
        let by_name: std::collections::BTreeMap<&String, &String> =
            job.parameters().map(|p| p.iter().collect()).unwrap_or_default();
        let values: Vec<String> = by_name.into_values().cloned().collect();
        if let Err(problem) = output_shows(ctx, finished, &values).await {
            actual = format!("SUCCEEDED, but {problem}");
            ok = false;
        }
    }
    observations.push(Observation::new("job final status", "SUCCEEDED", actual, ok));
    observations
}

/// The job's log group, where AWS Batch writes a container's output by default.
const JOB_LOG_GROUP: &str = "/aws/batch/job";

/// Whether the finished job's output in CloudWatch Logs shows every one of `values`; a job the emulator
/// simulated (no Docker engine: no container ran, so there is no output) is said on standard error and passes.
/// Logs can arrive a little after the job ends on AWS: they are read for up to 15 seconds.
async fn output_shows(ctx: &RunContext, job: &JobDetail, values: &[String]) -> Result<(), String> {
    let job_id = job.job_id().unwrap_or_default();
    if job.status_reason().is_some_and(|reason| reason.contains("simulated by crts-emulator")) {
        eprintln!(
            "job_trigger: job {job_id} was simulated by the emulator (no Docker engine, or CRTS_BATCH_CONTAINERS=simulate): no container ran, no output to read"
        );
        return Ok(());
    }
    let stream = job
        .container()
        .and_then(|c| c.log_stream_name())
        .ok_or("DescribeJobs names no logStreamName for its container")?
        .to_owned();
    let logs = ctx.logs.clone();
    let last_read = std::sync::Mutex::new(String::new());
    let read = poll_until(Duration::from_secs(15), ctx.target.poll_interval(), || {
        let (logs, stream, last_read) = (logs.clone(), stream.clone(), &last_read);
        async move {
            let out = logs
                .get_log_events()
                .log_group_name(JOB_LOG_GROUP)
                .log_stream_name(&stream)
                .start_from_head(true)
                .send()
                .await
                .map_err(|e| aws_smithy_types::error::display::DisplayErrorContext(&e).to_string())?;
            let text: Vec<String> = out.events().iter().filter_map(|e| e.message().map(str::to_owned)).collect();
            let text = text.join("\n");
            *last_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = text.clone();
            Ok::<_, String>(values.iter().all(|v| text.contains(v.as_str())).then_some(()))
        }
    })
    .await;
    let last = last_read.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    match read {
        Ok(Some(())) => Ok(()),
        Ok(None) => Err(format!("its output in {JOB_LOG_GROUP} does not show {}: {:?}", values.join(", "), last)),
        Err(e) => Err(format!("its output in {JOB_LOG_GROUP} could not be read: {e}")),
    }
}
