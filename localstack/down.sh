#!/usr/bin/env bash
# Stops and removes the containers and their volumes (the deployed stack goes with LocalStack).
set -euo pipefail
source "$(dirname "$0")/env.sh"
docker compose -f "$COMPOSE_FILE_PATH" down --volumes --remove-orphans
