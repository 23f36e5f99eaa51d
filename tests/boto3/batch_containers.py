"""boto3 against an emulator whose Batch runs jobs in Docker (AWS_ENDPOINT_URL), after `crts-harness run --target
endpoint=URL` deployed the runbook (the CRTS image pushed to the emulator's ECR, queue crts-aws-jq, definition
CrtsAwsJD:2 naming that image). Jobs really run: the command after Ref:: substitution, environment from the
definition and containerOverrides, vCPU/memory as limits (docker inspect), exit codes deciding SUCCEEDED/FAILED,
output in /aws/batch/job under container.logStreamName, retries, attempt timeouts, TerminateJob stopping the
container; a job whose image is not in the emulator's registry is simulated, and DescribeJobs says so."""
import json
import subprocess
import time
import uuid

import boto3

batch = boto3.client("batch")
logs = boto3.client("logs")
suffix = uuid.uuid4().hex[:8]
QUEUE = "crts-aws-jq"
runbook = batch.describe_job_definitions(jobDefinitionName="CrtsAwsJD", status="ACTIVE")["jobDefinitions"]
image = max(runbook, key=lambda d: d["revision"])["containerProperties"]["image"]
assert ".dkr.ecr." in image, image


def definition(name, **extra):
    properties = {
        "image": image,
        "command": ["/crts/run", "Ref::suite", "Ref::target"],
        "resourceRequirements": [{"type": "VCPU", "value": "0.5"}, {"type": "MEMORY", "value": "1024"}],
        "environment": [{"name": "CRTS_FROM_DEFINITION", "value": "yes"}],
        "executionRoleArn": runbook[0]["containerProperties"].get("executionRoleArn"),
        "networkConfiguration": {"assignPublicIp": "ENABLED"},
    }
    return batch.register_job_definition(jobDefinitionName=name + "-" + suffix, type="container",
                                         platformCapabilities=["FARGATE"], containerProperties=properties,
                                         parameters={"suite": "smoke", "target": "default"}, **extra)["jobDefinitionArn"]


def wait(job_id, statuses=("SUCCEEDED", "FAILED"), limit=60):
    deadline = time.time() + limit
    while time.time() < deadline:
        job = batch.describe_jobs(jobs=[job_id])["jobs"][0]
        if job["status"] in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError("job %s not %s after %ss: %s" % (job_id, statuses, limit, job))


def output(job):
    stream = job["container"]["logStreamName"]
    events = logs.get_log_events(logGroupName="/aws/batch/job", logStreamName=stream, startFromHead=True)["events"]
    return [e["message"] for e in events]


def container(job):
    return "crts-batch-" + job["container"]["taskArn"].rsplit("/", 1)[1]


# A job that succeeds, with the submission's parameters in its command and its output.
plain = definition("plain")
job = wait(batch.submit_job(jobName="ok", jobQueue=QUEUE, jobDefinition=plain,
                            parameters={"target": "staging"})["jobId"])
assert job["status"] == "SUCCEEDED", job
assert job["statusReason"] == "Essential container in task exited", job
assert job["container"]["exitCode"] == 0 and job["container"]["command"] == ["/crts/run", "smoke", "staging"], job
assert job["startedAt"] <= job["stoppedAt"], job
assert job["container"]["logStreamName"].startswith("plain-%s/default/" % suffix), job
assert output(job) == ["crts: running the smoke suite against staging", "crts: smoke suite passed"], output(job)
assert len(job["attempts"]) == 1 and job["attempts"][0]["container"]["exitCode"] == 0, job

# While it runs: the environment (definition + overrides + Batch's own) and the limits, as Docker sees them.
job_id = batch.submit_job(jobName="slow", jobQueue=QUEUE, jobDefinition=plain,
                          containerOverrides={"environment": [{"name": "CRTS_DURATION_SECONDS", "value": "30"},
                                                              {"name": "CRTS_FROM_OVERRIDE", "value": "yes"}]})["jobId"]
running = wait(job_id, statuses=("RUNNING",))
inspected = json.loads(subprocess.check_output(["docker", "inspect", container(running)]))[0]
env = dict(e.split("=", 1) for e in inspected["Config"]["Env"])
assert env["CRTS_FROM_DEFINITION"] == "yes" and env["CRTS_FROM_OVERRIDE"] == "yes", env
assert env["AWS_BATCH_JOB_ID"] == job_id and env["AWS_BATCH_JQ_NAME"] == QUEUE, env
assert inspected["HostConfig"]["NanoCpus"] == 500_000_000, inspected["HostConfig"]
assert inspected["HostConfig"]["Memory"] == 1024 * 1024 * 1024, inspected["HostConfig"]
# TerminateJob stops the container: FAILED with the reason, and no container left.
batch.terminate_job(jobId=job_id, reason="stopped by the test")
stopped = wait(job_id)
assert stopped["status"] == "FAILED" and stopped["statusReason"] == "stopped by the test", stopped
assert stopped["isTerminated"], stopped
for _ in range(100):
    if not subprocess.check_output(["docker", "ps", "-aq", "--filter", "name=" + container(running)]).strip():
        break
    time.sleep(0.1)
else:
    raise AssertionError("the terminated job's container is still there")

# A non-zero exit is FAILED with the exit code; with retryStrategy it runs again, each attempt recorded.
job = wait(batch.submit_job(jobName="unknown-suite", jobQueue=QUEUE, jobDefinition=plain,
                            parameters={"suite": "nightly"}, retryStrategy={"attempts": 2})["jobId"])
assert job["status"] == "FAILED" and job["container"]["exitCode"] == 3, job
assert job["statusReason"] == "Essential container in task exited", job
assert [a["container"]["exitCode"] for a in job["attempts"]] == [3, 3], job["attempts"]
assert len({a["container"]["logStreamName"] for a in job["attempts"]}) == 2, job["attempts"]
assert output(job) == ["crts: unknown suite 'nightly' (smoke, regression, full)"], output(job)

# timeout.attemptDurationSeconds ends an attempt that runs too long (60 s is AWS's least; the job would take 120).
timed = definition("timed", timeout={"attemptDurationSeconds": 60})
job = wait(batch.submit_job(jobName="too-slow", jobQueue=QUEUE, jobDefinition=timed,
                            containerOverrides={"environment": [{"name": "CRTS_DURATION_SECONDS", "value": "120"}]})["jobId"],
           limit=100)
assert job["status"] == "FAILED" and job["statusReason"] == "Job attempt duration exceeded timeout", job
assert 59_000 <= job["stoppedAt"] - job["startedAt"] < 90_000, job
assert output(job) == ["crts: running the smoke suite against default"], output(job)

# An image from another registry cannot be pulled offline: the job is simulated, and DescribeJobs says so.
foreign = batch.register_job_definition(
    jobDefinitionName="foreign-" + suffix, type="container", platformCapabilities=["FARGATE"],
    containerProperties={"image": "busybox", "command": ["true"],
                         "resourceRequirements": [{"type": "VCPU", "value": "0.25"}, {"type": "MEMORY", "value": "512"}],
                         "executionRoleArn": runbook[0]["containerProperties"].get("executionRoleArn")})["jobDefinitionArn"]
job = wait(batch.submit_job(jobName="simulated", jobQueue=QUEUE, jobDefinition=foreign)["jobId"])
assert job["status"] == "SUCCEEDED" and "simulated by crts-emulator" in job["statusReason"], job

print("batch containers: ok")
