#!/usr/bin/env bash
# Installs host-mode LocalStack into a venv under .cache/ (reused while the pins below are
# unchanged): localstack-core with its runtime extras, the AWS CLI, and this project's
# host-process Lambda executor (host/executor, editable). Needs Python >= 3.12 (see
# tools/python-venv.sh for where it is looked for; ETL_PYTHON picks one).
set -euo pipefail
cd "$(dirname "$0")/../.."
source tools/python-venv.sh

LOCALSTACK_CORE_VERSION=2026.3.0
AWSCLI_VERSION=1.44.62
# Newer releases of LocalStack's dependencies break it (cbor2 6.3, pyOpenSSL): resolve as of the
# day after 2026.3.0 was published.
UPLOADED_PRIOR_TO=2026-03-24T00:00:00Z

ensure_venv .cache/localstack/venv 3.12 \
  --uploaded-prior-to "$UPLOADED_PRIOR_TO" \
  "localstack-core[runtime]==$LOCALSTACK_CORE_VERSION" "awscli==$AWSCLI_VERSION" \
  -e localstack/host/executor
