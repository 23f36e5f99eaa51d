#!/usr/bin/env bash
# S3 as an outside conformance suite and cleanup tools drive it, through the AWS CLI against an emulator
# (AWS_ENDPOINT_URL): a prefix + delimiter listing, versioning and ListObjectVersions, UploadPartCopy with a range,
# a conditional put, and `aws s3 rb --force` on a bucket holding keys with special names. Exits non-zero on any
# failure.
set -euo pipefail
bucket=crts-cli-conformance
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
aws() { command aws --output json "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

aws s3 mb "s3://$bucket" >/dev/null
for key in boo/bar boo/baz/xyzzy cquux/thud; do
  printf '%s' "$key" >"$work/body"
  aws s3api put-object --bucket "$bucket" --key "$key" --body "$work/body" >/dev/null
done
listing=$(aws s3api list-objects-v2 --bucket "$bucket" --prefix boo/ --delimiter /)
[ "$(field "[o['Key'] for o in d['Contents']], [p['Prefix'] for p in d['CommonPrefixes']]" <<<"$listing")" \
  = "['boo/bar'] ['boo/baz/']" ] || fail "prefix + delimiter listing: $listing"

# Versioning: two versions of one key, both listed, the older one still readable.
aws s3api put-bucket-versioning --bucket "$bucket" --versioning-configuration Status=Enabled
[ "$(aws s3api get-bucket-versioning --bucket "$bucket" | field "d['Status']")" = Enabled ] || fail "versioning"
printf one >"$work/one"; printf two >"$work/two"
first=$(aws s3api put-object --bucket "$bucket" --key v --body "$work/one" | field "d['VersionId']")
aws s3api put-object --bucket "$bucket" --key v --body "$work/two" >/dev/null
versions=$(aws s3api list-object-versions --bucket "$bucket" --prefix v)
[ "$(field "len(d['Versions']), d['Versions'][1]['VersionId']" <<<"$versions")" = "2 $first" ] \
  || fail "list-object-versions: $versions"
aws s3api get-object --bucket "$bucket" --key v --version-id "$first" "$work/got" >/dev/null
[ "$(cat "$work/got")" = one ] || fail "the first version reads back"

# UploadPartCopy with a byte range.
upload=$(aws s3api create-multipart-upload --bucket "$bucket" --key copied | field "d['UploadId']")
etag=$(aws s3api upload-part-copy --bucket "$bucket" --key copied --upload-id "$upload" --part-number 1 \
  --copy-source "$bucket/boo/bar" --copy-source-range bytes=0-2 | field "d['CopyPartResult']['ETag']")
if aws s3api upload-part-copy --bucket "$bucket" --key copied --upload-id "$upload" --part-number 2 \
  --copy-source "$bucket/boo/bar" --copy-source-range bytes=9-12 2>"$work/err"; then
  fail "a range past the source's end was accepted"
fi
grep -q InvalidRange "$work/err" || fail "expected InvalidRange, got: $(cat "$work/err")"
aws s3api complete-multipart-upload --bucket "$bucket" --key copied --upload-id "$upload" \
  --multipart-upload "{\"Parts\": [{\"PartNumber\": 1, \"ETag\": $etag}]}" >/dev/null
aws s3api get-object --bucket "$bucket" --key copied "$work/got" >/dev/null
[ "$(cat "$work/got")" = boo ] || fail "the copied part holds bytes 0-2"

# A conditional put: refused once the key exists.
aws s3api put-object --bucket "$bucket" --key once --body "$work/one" --if-none-match '*' >/dev/null
if aws s3api put-object --bucket "$bucket" --key once --body "$work/two" --if-none-match '*' 2>"$work/err"; then
  fail "If-None-Match: * overwrote an existing key"
fi
grep -q PreconditionFailed "$work/err" || fail "expected PreconditionFailed, got: $(cat "$work/err")"

# A versioned bucket is not empty while versions remain.
if aws s3 rb "s3://$bucket" --force 2>"$work/err"; then fail "rb --force deleted a bucket holding versions"; fi
grep -q BucketNotEmpty "$work/err" || fail "expected BucketNotEmpty, got: $(cat "$work/err")"

# Keys with special names: `aws s3 rb --force` lists (EncodingType=url), deletes them all and the bucket.
special=crts-cli-special-keys
aws s3 mb "s3://$special" >/dev/null
for key in 0 _ % ' ' '_ _' 'a+b' 'a b/c' 'été' "&<>'" 'x%2Fy'; do
  aws s3api put-object --bucket "$special" --key "$key" --body "$work/one" >/dev/null
done
[ "$(aws s3api list-objects-v2 --bucket "$special" | field "len(d['Contents'])")" = 10 ] || fail "ten keys listed"
aws s3 rb "s3://$special" --force >/dev/null
if aws s3api head-bucket --bucket "$special" 2>/dev/null; then fail "the bucket is still there"; fi
echo "cli s3 conformance: ok"
