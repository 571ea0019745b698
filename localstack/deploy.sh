#!/usr/bin/env bash
# Deploys the `localstack` stage into LocalStack: the secrets as SSM SecureStrings (as in a real
# account), then the stack with serverless (osls honours AWS_ENDPOINT_URL; serverless-localstack
# does not work with osls 4). Needs the AWS CLI (v1 or v2; see env.sh). Works the same for the
# Docker path and the host path.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

# The request goes as --cli-input-json from a private file: AWS CLI v1 would fetch a --value that
# starts with http:// (its URL-parameter feature), and a file keeps the value out of `ps`.
put_secret() {
  local name=$1 value=$2 request
  request=$(mktemp)
  trap 'rm -f "$request"' RETURN
  NAME=$name VALUE=$value node -e 'process.stdout.write(JSON.stringify({ Name: process.env.NAME, Type: "SecureString", Value: process.env.VALUE, Overwrite: true }))' >"$request"
  awsls ssm put-parameter --cli-input-json "file://$request" >/dev/null
  echo "SSM SecureString $name set"
}
while IFS= read -r line; do
  [[ -z "$line" ]] && continue
  name=${line%%=*} value=${line#*=}
  if [[ -z "$value" ]]; then
    echo "SSM /etl/$STAGE/$name: no value, not set"
    continue
  fi
  put_secret "/etl/$STAGE/$name" "$value"
done < <(localstack_secrets)

# The connections' names (their URLs are the SecureStrings above), unless given explicitly.
export ETL_CONNECTIONS=${ETL_CONNECTIONS-$(connection_names)}
AWS_ENDPOINT_URL=$LOCALSTACK_ENDPOINT SLS_TELEMETRY_DISABLED=1 \
  node_modules/.bin/sls deploy --stage "$STAGE" --region "$AWS_REGION"

"$(dirname "$0")/api-url.sh"
