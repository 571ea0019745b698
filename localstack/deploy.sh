#!/usr/bin/env bash
# Deploys the `localstack` stage into LocalStack: the secrets as SSM SecureStrings (as in a real
# account), then the stack with serverless (osls honours AWS_ENDPOINT_URL; serverless-localstack
# does not work with osls 4). Needs the AWS CLI (v1 or v2) on the host.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"

put_secret() {
  awsls ssm put-parameter --name "$1" --type SecureString --value "$2" --overwrite >/dev/null
  echo "SSM SecureString $1 set"
}
put_secret "/etl/$STAGE/database-url" "$LAMBDA_DATABASE_URL"
put_secret "/etl/$STAGE/es-url" "$LAMBDA_ES_URL"

AWS_ENDPOINT_URL=$LOCALSTACK_ENDPOINT SLS_TELEMETRY_DISABLED=1 \
  node_modules/.bin/sls deploy --stage "$STAGE" --region "$AWS_REGION"

"$(dirname "$0")/api-url.sh"
