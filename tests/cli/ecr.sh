#!/usr/bin/env bash
# The runbook's "AWS Elastic Container Registry" section with the AWS CLI against an emulator (AWS_ENDPOINT_URL):
# create the repository, note its URI, get a registry password, and see the (empty) image list.
set -euo pipefail
aws() { command aws --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
q() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

account=$(aws sts get-caller-identity | q '["Account"]')
uri=$(aws ecr create-repository --repository-name crts-cli | q '["repository"]["repositoryUri"]')
[ "$uri" = "$account.dkr.ecr.${AWS_DEFAULT_REGION:-us-east-1}.amazonaws.com/crts-cli" ] || fail "repositoryUri: $uri"
if duplicate=$(aws ecr create-repository --repository-name crts-cli 2>&1); then fail "a duplicate repository was created"; fi
case "$duplicate" in
  *"(RepositoryAlreadyExistsException)"*"The repository with name 'crts-cli' already exists"*) ;;
  *) fail "a duplicate repository: expected RepositoryAlreadyExistsException, got: $duplicate" ;;
esac
[ "$(aws ecr describe-repositories --repository-names crts-cli | q '["repositories"][0]["imageTagMutability"]')" = MUTABLE ] \
  || fail "describe-repositories"
password=$(aws ecr get-login-password)
[ ${#password} -ge 32 ] || fail "get-login-password returned a short password"
[ "$(aws ecr describe-images --repository-name crts-cli | q '["imageDetails"]')" = "[]" ] || fail "describe-images"
# The registry on the same port accepts that password (what `docker login --password-stdin` sends).
code=$(curl -s -o /dev/null -w '%{http_code}' -u "AWS:$password" "$AWS_ENDPOINT_URL/v2/")
[ "$code" = 200 ] || fail "registry login answered $code"
aws ecr delete-repository --repository-name crts-cli >/dev/null
echo "aws cli ecr: ok"
