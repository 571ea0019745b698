#!/usr/bin/env bash
# Applies the migrations to the PostgreSQL container and loads the demo catalogue
# (SEED=0 skips the catalogue; seeding replaces the content.* demo tables).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$REPO_ROOT"
DATABASE_URL=$HOST_DATABASE_URL npm run --silent db:migrate
if [[ "${SEED:-1}" != 0 ]]; then
  DATABASE_URL=$HOST_DATABASE_URL npm run --silent db:seed
fi
