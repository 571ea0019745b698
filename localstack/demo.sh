#!/usr/bin/env bash
# Runs the demo scenarios (npm run demo) against the API deployed in LocalStack.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
api_url=$("$(dirname "$0")/api-url.sh")
echo "API $api_url"
curl -fsS "$api_url/health" && echo
API_URL=$api_url API_KEY=$API_KEY DATABASE_URL=$HOST_DATABASE_URL ES_URL=$HOST_ES_URL npm run --silent demo
