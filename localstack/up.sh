#!/usr/bin/env bash
# Starts LocalStack, PostgreSQL 16 and Elasticsearch and waits until all three are healthy.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if [[ -z "${LOCALSTACK_AUTH_TOKEN:-}" ]]; then
  echo "LOCALSTACK_AUTH_TOKEN is not set: the LocalStack image needs one (a free account at localstack.cloud gives one)." >&2
  exit 1
fi
docker compose -f "$COMPOSE_FILE_PATH" up -d --wait
echo "LocalStack $LOCALSTACK_ENDPOINT, PostgreSQL $HOST_DATABASE_URL, Elasticsearch $HOST_ES_URL"
