#!/usr/bin/env bash
# npm run lint:cfn: cfn-lint (pinned, in a venv under .cache/) on the packaged template. Run
# `npm run package:aws` first; any error or warning fails (cfn-lint's non-zero exit).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/python-venv.sh
CFN_LINT_VERSION=1.58.0
template=${1:-.serverless/cloudformation-template-update-stack.json}
if [[ ! -f "$template" ]]; then
  echo "$template not found: run npm run package:aws first" >&2
  exit 1
fi
ensure_venv .cache/cfn-lint/venv 3.9 "cfn-lint==$CFN_LINT_VERSION"
.cache/cfn-lint/venv/bin/cfn-lint --format parseable "$template"
echo "cfn-lint $CFN_LINT_VERSION: $template: no errors, no warnings"
