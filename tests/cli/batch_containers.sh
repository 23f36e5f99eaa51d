#!/usr/bin/env bash
# The AWS CLI against an emulator whose Batch runs jobs in Docker (AWS_ENDPOINT_URL), after `crts-harness run
# --target endpoint=URL` deployed the runbook: `aws batch submit-job` on the runbook's queue and definition runs
# the CRTS image, `aws batch describe-jobs` follows it to SUCCEEDED, `aws logs get-log-events` reads its output
# under the job's logStreamName; a job that runs long is stopped by `aws batch terminate-job`.
set -euo pipefail
aws() { command aws --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Polls describe-jobs until the job's status is one of $2 (space-separated), at most $3 seconds; prints the job.
wait_for() {
  local id=$1 statuses=$2 limit=$3 job status
  for _ in $(seq 1 $((limit * 10))); do
    job=$(aws batch describe-jobs --jobs "$id" | q '["jobs"][0]')
    status=$(python3 -c "import ast,sys; print(ast.literal_eval(sys.argv[1])['status'])" "$job")
    case " $statuses " in *" $status "*) aws batch describe-jobs --jobs "$id"; return 0 ;; esac
    sleep 0.1
  done
  fail "job $id is not $statuses after $limit s (it is $status)"
}

id=$(aws batch submit-job --job-name cli-ok --job-queue crts-aws-jq --job-definition CrtsAwsJD:2 \
  --parameters suite=regression,target=cli | q '["jobId"]')
job=$(wait_for "$id" "SUCCEEDED FAILED" 60)
[ "$(echo "$job" | q '["jobs"][0]["status"]')" = SUCCEEDED ] || fail "the job did not succeed: $job"
[ "$(echo "$job" | q '["jobs"][0]["container"]["exitCode"]')" = 0 ] || fail "exit code: $job"
stream=$(echo "$job" | q '["jobs"][0]["container"]["logStreamName"]')
first=$(aws logs get-log-events --log-group-name /aws/batch/job --log-stream-name "$stream" --start-from-head \
  | q '["events"][0]["message"]')
[ "$first" = "crts: running the regression suite against cli" ] || fail "the job's output: $first"

id=$(aws batch submit-job --job-name cli-long --job-queue crts-aws-jq --job-definition CrtsAwsJD:2 \
  --container-overrides 'environment=[{name=CRTS_DURATION_SECONDS,value=60}]' | q '["jobId"]')
wait_for "$id" RUNNING 60 >/dev/null
aws batch terminate-job --job-id "$id" --reason "stopped from the CLI"
job=$(wait_for "$id" "SUCCEEDED FAILED" 30)
[ "$(echo "$job" | q '["jobs"][0]["statusReason"]')" = "stopped from the CLI" ] || fail "terminated: $job"
echo "batch containers (CLI): ok"
