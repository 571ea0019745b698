#!/usr/bin/env bash
# Prints the deployed API's URL as reachable from the host. The stack output ServiceEndpoint names
# the REST API id; LocalStack serves it at <id>.execute-api.localhost.localstack.cloud:4566
# (that name resolves to 127.0.0.1).
set -euo pipefail
source "$(dirname "$0")/env.sh"
endpoint=$(awsls cloudformation describe-stacks --stack-name "etl-$STAGE" \
  --query "Stacks[0].Outputs[?OutputKey=='ServiceEndpoint'].OutputValue" --output text)
api_id=$(sed -E 's#^https?://([a-z0-9]+)\.execute-api\..*#\1#' <<<"$endpoint")
if [[ -z "$api_id" || "$api_id" == "$endpoint" ]]; then
  echo "no REST API id in the stack output ServiceEndpoint ('$endpoint'): is the stack deployed (localstack/deploy.sh)?" >&2
  exit 1
fi
echo "http://$api_id.execute-api.localhost.localstack.cloud:4566/$STAGE"
