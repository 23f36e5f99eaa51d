//! What a run's Lambda function and Batch jobs wrote to CloudWatch Logs, removed with them at teardown: the
//! function's group `/aws/lambda/<function>` (the run's own name), and the jobs' streams in Batch's shared
//! `/aws/batch/job`, whose group goes too only when this run's jobs created it and nothing else is in it.

use super::{RunContext, StepError, optional};

/// Batch's log group, shared by every job of the account and region.
const JOB_LOG_GROUP: &str = "/aws/batch/job";

/// Deletes a Lambda function's log group, if it has one.
pub(crate) async fn remove_function_logs(ctx: &RunContext, function: &str) -> Result<Vec<String>, StepError> {
    let group = format!("/aws/lambda/{function}");
    let deleted = optional("DeleteLogGroup", ctx.logs.delete_log_group().log_group_name(&group).send().await)?;
    Ok(deleted.map(|_| format!("CloudWatch Logs group {group}")).into_iter().collect())
}

/// Deletes the streams of a job definition's jobs (`<definition>/default/<task>`) from `/aws/batch/job`, then the
/// group itself if it is empty and was created after this provisioned run started (so by its jobs).
pub(crate) async fn remove_job_logs(ctx: &RunContext, definition: &str) -> Result<Vec<String>, StepError> {
    let mut removed = Vec::new();
    let mut pages = ctx
        .logs
        .describe_log_streams()
        .log_group_name(JOB_LOG_GROUP)
        .log_stream_name_prefix(format!("{definition}/"))
        .into_paginator()
        .send();
    let mut streams = Vec::new();
    while let Some(page) = pages.next().await {
        let Some(page) = optional("DescribeLogStreams", page)? else { return Ok(removed) };
        streams.extend(page.log_streams().iter().filter_map(|s| s.log_stream_name().map(str::to_owned)));
    }
    for stream in streams {
        let deleted = ctx.logs.delete_log_stream().log_group_name(JOB_LOG_GROUP).log_stream_name(&stream).send().await;
        if optional("DeleteLogStream", deleted)?.is_some() {
            removed.push(format!("CloudWatch Logs stream {JOB_LOG_GROUP} {stream}"));
        }
    }
    let Some(started) = ctx.owner.as_ref().and_then(|o| chrono::DateTime::parse_from_rfc3339(&o.created).ok()) else {
        return Ok(removed);
    };
    let groups = ctx.logs.describe_log_groups().log_group_name_prefix(JOB_LOG_GROUP).send().await;
    let groups = groups.map_err(|e| StepError::sdk("DescribeLogGroups", e))?;
    let ours = groups.log_groups().iter().any(|g| {
        g.log_group_name() == Some(JOB_LOG_GROUP)
            && g.creation_time().is_some_and(|created| created >= started.timestamp_millis())
    });
    if !ours {
        return Ok(removed);
    }
    let left = ctx.logs.describe_log_streams().log_group_name(JOB_LOG_GROUP).limit(1).send().await;
    let left = optional("DescribeLogStreams", left)?;
    if left.is_some_and(|out| out.log_streams().is_empty()) {
        let deleted = ctx.logs.delete_log_group().log_group_name(JOB_LOG_GROUP).send().await;
        if optional("DeleteLogGroup", deleted)?.is_some() {
            removed.push(format!("CloudWatch Logs group {JOB_LOG_GROUP} (created by this run's jobs)"));
        }
    }
    Ok(removed)
}
