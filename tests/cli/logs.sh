#!/usr/bin/env bash
# The AWS CLI against an emulator's CloudWatch Logs (AWS_ENDPOINT_URL): groups, streams and events with the CLI's
# own commands (auto-pagination of filter-log-events and describe-log-streams, refusals), then the AWS CLI v2's
# `aws logs tail --follow` on a Lambda function's log group, seeing each invocation's lines as they are written.
# `aws logs tail` exists only in the CLI v2 (Debian's package awscli; CRTS_AWS_CLI_V2 names another), which is
# given --endpoint-url (Debian's 2.9 predates AWS_ENDPOINT_URL). Rerunnable (names carry a suffix).
set -euo pipefail
aws() { command aws --output json "$@"; }
aws2() { "${CRTS_AWS_CLI_V2:-/usr/bin/aws}" --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
suffix=$(python3 -c 'import uuid; print(uuid.uuid4().hex[:8])')
work=$(mktemp -d)
tail_pid=
trap '[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null; rm -rf "$work"' EXIT
"${CRTS_AWS_CLI_V2:-/usr/bin/aws}" --version 2>&1 | grep -q '^aws-cli/2' || fail "no AWS CLI v2 at ${CRTS_AWS_CLI_V2:-/usr/bin/aws}"

group=/crts/cli-$suffix
aws logs create-log-group --log-group-name "$group"
aws logs create-log-group --log-group-name "$group" 2>"$work/err" && fail "a second create-log-group succeeded"
grep -q ResourceAlreadyExistsException "$work/err" || fail "duplicate group: $(cat "$work/err")"
aws logs put-retention-policy --log-group-name "$group" --retention-in-days 30
for s in a b c; do aws logs create-log-stream --log-group-name "$group" --log-stream-name "$s"; done
now=$(python3 -c 'import time; print(int(time.time() * 1000))')
for i in 0 1 2 3 4 5 6 7; do
  aws logs put-log-events --log-group-name "$group" --log-stream-name "$(echo a b c | cut -d' ' -f$((i % 3 + 1)))" \
    --log-events "timestamp=$((now - 10000 + i)),message=cli event $i" >/dev/null
done
streams=$(aws logs describe-log-streams --log-group-name "$group" --page-size 2 | q '["logStreams"].__len__()')
[ "$streams" = 3 ] || fail "describe-log-streams paged by 2 listed $streams streams"
events=$(aws logs filter-log-events --log-group-name "$group" --page-size 3 | q '["events"].__len__()')
[ "$events" = 8 ] || fail "filter-log-events paged by 3 returned $events events"
phrase=$(aws logs filter-log-events --log-group-name "$group" --filter-pattern '"cli event 4"' | q '["events"][0]["logStreamName"]')
[ "$phrase" = b ] || fail "the phrase 'cli event 4' was found in stream $phrase"
first=$(aws logs get-log-events --log-group-name "$group" --log-stream-name a --start-from-head --limit 1 | q '["events"][0]["message"]')
[ "$first" = "cli event 0" ] || fail "get-log-events from the head: $first"
aws logs filter-log-events --log-group-name "$group" --filter-pattern '{ $.level = "ERROR" }' 2>"$work/err" \
  && fail "a JSON filter pattern was evaluated"
grep -q InvalidParameterException "$work/err" || fail "JSON filter pattern: $(cat "$work/err")"
aws logs delete-log-group --log-group-name "$group"
aws logs describe-log-streams --log-group-name "$group" 2>"$work/err" && fail "a deleted group's streams were listed"
grep -q ResourceNotFoundException "$work/err" || fail "deleted group: $(cat "$work/err")"

# A function whose role may write logs (AWSLambdaBasicExecutionRole), then `aws logs tail --follow` on its group.
name=tailed-$suffix
python3 - "$work/fn.zip" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("app.py", "def handler(event, context):\n    print('invocation', event.get('n'))\n    return {}\n")
EOF
trust='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}'
role=$(aws iam create-role --role-name "$name" --assume-role-policy-document "$trust" | q '["Role"]["Arn"]')
aws iam attach-role-policy --role-name "$name" --policy-arn arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole
aws lambda create-function --function-name "$name" --runtime python3.8 --role "$role" --handler app.handler \
  --zip-file "fileb://$work/fn.zip" >/dev/null
aws lambda wait function-active-v2 --function-name "$name"
aws lambda invoke --function-name "$name" --payload '{"n": 1}' "$work/out" >/dev/null

aws2 logs tail "/aws/lambda/$name" --since 10m --follow --format short >"$work/tail" 2>"$work/tail.err" &
tail_pid=$!
# The first invocation is already there; the second is written while tail follows (it polls every 5 s).
for _ in $(seq 1 100); do grep -q 'invocation 1' "$work/tail" && break; sleep 0.1; done
grep -q 'invocation 1' "$work/tail" || fail "aws logs tail did not print the first invocation: $(cat "$work/tail" "$work/tail.err")"
aws lambda invoke --function-name "$name" --payload '{"n": 2}' "$work/out" >/dev/null
for _ in $(seq 1 150); do grep -q 'invocation 2' "$work/tail" && break; sleep 0.1; done
grep -q 'invocation 2' "$work/tail" || fail "aws logs tail --follow did not print the second invocation: $(cat "$work/tail" "$work/tail.err")"
kill "$tail_pid"; tail_pid=
# Each line once (tail de-duplicates by eventId across its polls), in order: START, the print, END, REPORT, twice.
python3 - "$work/tail" <<'EOF'
import re, sys
lines = [line.split(" ", 1)[1] for line in open(sys.argv[1]).read().splitlines()]
kinds = [re.sub(r"^(START|END|REPORT).*", r"\1", l) for l in lines]
expected = ["START", "invocation 1", "END", "REPORT", "START", "invocation 2", "END", "REPORT"]
if kinds != expected:
    sys.exit("FAIL: aws logs tail printed %r" % lines)
EOF
echo "logs: ok"
