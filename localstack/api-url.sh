#!/usr/bin/env bash
# Prints the deployed API's URL as reachable from the host:
# <LocalStack endpoint>/_aws/execute-api/<REST API id>/<stage>. That form needs no DNS (the
# <id>.execute-api.localhost.localstack.cloud names do not resolve everywhere). The REST API id
# is taken from the stack output ServiceEndpoint.
set -euo pipefail
source "$(dirname "$0")/env.sh"
endpoint=$(awsls cloudformation describe-stacks --stack-name "etl-$STAGE" \
  --query "Stacks[0].Outputs[?OutputKey=='ServiceEndpoint'].OutputValue" --output text)
api_id=$(sed -E 's#^https?://([a-z0-9]+)\.execute-api\..*#\1#' <<<"$endpoint")
if [[ -z "$api_id" || "$api_id" == "$endpoint" ]]; then
  echo "no REST API id in the stack output ServiceEndpoint ('$endpoint'): is the stack deployed (localstack/deploy.sh)?" >&2
  exit 1
fi
echo "$LOCALSTACK_ENDPOINT/_aws/execute-api/$api_id/$STAGE"
