"""AWS Batch against an emulator (AWS_ENDPOINT_URL) with boto3: the CRTS setup (Fargate compute environment,
queue, job definition registered twice), a job on CrtsAwsJD:2 that must SUCCEED, and the refusals that matter.
Exits non-zero on any failure."""
import os
import sys
import time

import boto3
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
batch = boto3.client("batch", endpoint_url=ENDPOINT, region_name=REGION,
                     aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "test"),
                     aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "test"))
SUFFIX = str(int(time.time() * 1000))[-8:]  # rerunnable against a long-lived emulator
CE, QUEUE, JD = "crts-ce-" + SUFFIX, "crts-aws-jq-" + SUFFIX, "CrtsAwsJD" + SUFFIX


def expect_client_error(fragment, call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as error:
        code, message = error.response["Error"]["Code"], error.response["Error"]["Message"]
        assert code == "ClientException", (code, message)
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400, error.response
        assert fragment in message, (fragment, message)
        return message
    raise AssertionError("expected ClientException containing %r" % fragment)


def fargate_container(image, **extra):
    container = {"image": image, "executionRoleArn": EXEC_ROLE,
                 "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]}
    container.update(extra)
    return container


# The runbook's setup.
created = batch.create_compute_environment(
    computeEnvironmentName=CE, type="MANAGED", state="ENABLED",
    computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": ["subnet-1"], "securityGroupIds": ["sg-1"]})
assert created["computeEnvironmentArn"].endswith(":compute-environment/" + CE), created
account = created["computeEnvironmentArn"].split(":")[4]
EXEC_ROLE = "arn:aws:iam::%s:role/ecsTaskExecutionRole" % account
ce = batch.describe_compute_environments(computeEnvironments=[CE])["computeEnvironments"][0]
assert (ce["state"], ce["status"], ce["computeResources"]["type"]) == ("ENABLED", "VALID", "FARGATE"), ce

queue = batch.create_job_queue(jobQueueName=QUEUE, state="ENABLED", priority=1,
                               computeEnvironmentOrder=[{"order": 1, "computeEnvironment": CE}])
queue_arn = queue["jobQueueArn"]
assert queue_arn == "arn:aws:batch:%s:%s:job-queue/%s" % (REGION, account, QUEUE), queue_arn
described_queue = batch.describe_job_queues(jobQueues=[queue_arn])["jobQueues"][0]
assert described_queue["computeEnvironmentOrder"][0]["computeEnvironment"] == created["computeEnvironmentArn"]

first = batch.register_job_definition(jobDefinitionName=JD, type="container", platformCapabilities=["FARGATE"],
                                      containerProperties=fargate_container("busybox"))
second = batch.register_job_definition(
    jobDefinitionName=JD, type="container", platformCapabilities=["FARGATE"],
    parameters={"suite": "smoke", "target": "default"},
    containerProperties=fargate_container("public.ecr.aws/docker/library/busybox:latest",
                                          command=["/crts/run", "Ref::suite", "Ref::target"],
                                          networkConfiguration={"assignPublicIp": "ENABLED"}))
assert (first["revision"], second["revision"]) == (1, 2), (first, second)
assert second["jobDefinitionArn"].endswith(":job-definition/%s:2" % JD), second
definitions = {d["revision"]: d for d in batch.describe_job_definitions(jobDefinitionName=JD)["jobDefinitions"]}
assert definitions[1]["containerProperties"]["networkConfiguration"]["assignPublicIp"] == "DISABLED", definitions[1]
assert definitions[2]["containerProperties"]["networkConfiguration"]["assignPublicIp"] == "ENABLED", definitions[2]
assert definitions[2]["platformCapabilities"] == ["FARGATE"] and definitions[2]["status"] == "ACTIVE"

# A job on revision 2, as the trigger Lambda submits it.
submitted = batch.submit_job(jobName="crts-run", jobQueue=QUEUE, jobDefinition=JD + ":2",
                             parameters={"suite": "full"})
job_id = submitted["jobId"]
assert submitted["jobArn"] == "arn:aws:batch:%s:%s:job/%s" % (REGION, account, job_id), submitted
seen = []
deadline = time.time() + 30
while time.time() < deadline:
    job = batch.describe_jobs(jobs=[job_id, "no-such-job"])["jobs"]
    assert len(job) == 1, job
    job = job[0]
    if not seen or seen[-1] != job["status"]:
        seen.append(job["status"])
    if job["status"] in ("SUCCEEDED", "FAILED"):
        break
    time.sleep(0.02)
assert job["status"] == "SUCCEEDED", (seen, job)
assert job["jobQueue"] == queue_arn, job["jobQueue"]
assert job["jobDefinition"] == second["jobDefinitionArn"], job["jobDefinition"]
assert job["parameters"] == {"suite": "full", "target": "default"}, job["parameters"]
assert job["container"]["command"] == ["/crts/run", "full", "default"], job["container"]
assert job["container"]["exitCode"] == 0 and job["container"]["logStreamName"].startswith(JD + "/default/")
assert isinstance(job["createdAt"], int) and job["createdAt"] <= job["startedAt"] <= job["stoppedAt"], job
assert job["createdAt"] > 1_600_000_000_000, "timestamps are epoch milliseconds"
listed = batch.list_jobs(jobQueue=QUEUE, filters=[{"name": "JOB_NAME", "values": ["crts-*"]}])["jobSummaryList"]
assert [j["jobId"] for j in listed] == [job_id], listed
assert batch.list_jobs(jobQueue=QUEUE)["jobSummaryList"] == [], "without a status only RUNNING jobs"
assert [j["jobId"] for j in batch.list_jobs(jobQueue=QUEUE, jobStatus="SUCCEEDED")["jobSummaryList"]] == [job_id]

# Refusals.
expect_client_error("JobQueue %s-typo not found." % QUEUE, batch.submit_job,
                    jobName="x", jobQueue=QUEUE + "-typo", jobDefinition=JD + ":2")
expect_client_error("JobDefinition %s:7 does not exist or is not in ACTIVE status" % JD, batch.submit_job,
                    jobName="x", jobQueue=QUEUE, jobDefinition=JD + ":7")
expect_client_error("Fargate resource requirements (1.00 vCPU, 4000 MiB) not valid.", batch.register_job_definition,
                    jobDefinitionName=JD, type="container", platformCapabilities=["FARGATE"],
                    containerProperties={"image": "busybox", "executionRoleArn": EXEC_ROLE, "resourceRequirements": [
                        {"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "4000"}]})
expect_client_error("executionRoleArn", batch.register_job_definition,
                    jobDefinitionName=JD, type="container", platformCapabilities=["FARGATE"],
                    containerProperties={"image": "busybox", "resourceRequirements": [
                        {"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}]})
expect_client_error("Object already exists", batch.create_compute_environment, computeEnvironmentName=CE,
                    type="MANAGED", computeResources={"type": "FARGATE", "maxvCpus": 4, "subnets": ["s"]})

# A job whose image is in the account's ECR but was never pushed fails to start, as on AWS.
unpulled = batch.register_job_definition(
    jobDefinitionName=JD + "-unpulled", type="container", platformCapabilities=["FARGATE"],
    containerProperties=fargate_container("%s.dkr.ecr.%s.amazonaws.com/never-pushed-%s:v1" % (account, REGION, SUFFIX)))
failing = batch.submit_job(jobName="unpulled", jobQueue=QUEUE, jobDefinition=unpulled["jobDefinitionArn"])["jobId"]
for _ in range(500):
    failed = batch.describe_jobs(jobs=[failing])["jobs"][0]
    if failed["status"] in ("SUCCEEDED", "FAILED"):
        break
    time.sleep(0.02)
assert (failed["status"], failed["statusReason"]) == ("FAILED", "Task failed to start"), failed
assert failed["container"]["reason"].startswith("CannotPullContainerError: "), failed["container"]
assert "startedAt" not in failed and "exitCode" not in failed["container"], failed

# Cancel and terminate. The job to cancel is an EC2 job on the Fargate queue: it stays RUNNABLE (as on AWS), so
# CancelJob finds it cancellable however slow this machine is.
ec2 = batch.register_job_definition(jobDefinitionName=JD + "-ec2", type="container",
                                    containerProperties={"image": "busybox", "vcpus": 1, "memory": 512})
slow = batch.submit_job(jobName="to-cancel", jobQueue=queue_arn, jobDefinition=ec2["jobDefinitionArn"])["jobId"]
assert batch.describe_jobs(jobs=[slow])["jobs"][0]["status"] in ("SUBMITTED", "PENDING", "RUNNABLE")
batch.cancel_job(jobId=slow, reason="not needed")
cancelled = batch.describe_jobs(jobs=[slow])["jobs"][0]
assert (cancelled["status"], cancelled["statusReason"]) == ("FAILED", "not needed"), cancelled
other = batch.submit_job(jobName="to-terminate", jobQueue=QUEUE, jobDefinition=JD + "-ec2")["jobId"]
batch.terminate_job(jobId=other, reason="stop")
assert batch.describe_jobs(jobs=[other])["jobs"][0]["status"] == "FAILED"

# Deregistering revision 2 makes a bare name fall back to revision 1; then revision 2 cannot be submitted.
batch.deregister_job_definition(jobDefinition=JD + ":2")
fallback = batch.submit_job(jobName="fallback", jobQueue=QUEUE, jobDefinition=JD)["jobId"]
assert batch.describe_jobs(jobs=[fallback])["jobs"][0]["jobDefinition"] == first["jobDefinitionArn"]
expect_client_error("does not exist or is not in ACTIVE status", batch.submit_job,
                    jobName="x", jobQueue=QUEUE, jobDefinition=JD + ":2")

# Teardown order AWS enforces.
expect_client_error("Cannot delete", batch.delete_job_queue, jobQueue=QUEUE)
batch.update_compute_environment(computeEnvironment=CE, state="DISABLED", computeResources={"maxvCpus": 8})
expect_client_error("Cannot delete, found existing JobQueue relationship", batch.delete_compute_environment,
                    computeEnvironment=CE)
batch.update_job_queue(jobQueue=QUEUE, state="DISABLED")
expect_client_error("is not in ENABLED state", batch.submit_job, jobName="x", jobQueue=QUEUE, jobDefinition=JD)
batch.delete_job_queue(jobQueue=QUEUE)
batch.delete_compute_environment(computeEnvironment=CE)
assert batch.describe_compute_environments(computeEnvironments=[CE])["computeEnvironments"] == []

print("batch smoke: ok (job %s went %s)" % (job_id, " -> ".join(seen)))
sys.exit(0)
