#!/usr/bin/env bash
# Starts LocalStack as a host process (no Docker) and waits until it answers. Lambda functions run
# as Node.js processes through the etl-host executor (host/executor). Everything it writes goes
# under RUN_DIR (default .cache/localstack/run): LocalStack's filesystem root (FILESYSTEM_ROOT,
# instead of /var/lib/localstack), its temporary directory (TMPDIR: the unzipped functions,
# instead of /tmp/lambda), its log and the functions' logs. LocalStack ignores SIGTERM: it is
# started in a session of its own (setsid) whose process group host/stop.sh ends, function
# processes included (they stay in that group).
set -euo pipefail
source "$(dirname "$0")/../env.sh"
cd "$REPO_ROOT"
RUN_DIR=${RUN_DIR:-$REPO_ROOT/.cache/localstack/run}
venv=$REPO_ROOT/.cache/localstack/venv
[[ -x "$venv/bin/python" ]] || { echo "no LocalStack venv: run localstack/host/install.sh" >&2; exit 1; }

hostport=${LOCALSTACK_ENDPOINT#http://}
if curl -fsS -o /dev/null --max-time 2 "$LOCALSTACK_ENDPOINT/_localstack/health" 2>/dev/null; then
  echo "something already answers at $LOCALSTACK_ENDPOINT: stop it, or set LOCALSTACK_ENDPOINT to another port" >&2
  exit 1
fi
mkdir -p "$RUN_DIR/fs" "$RUN_DIR/tmp" "$RUN_DIR/lambda" "$RUN_DIR/cache"

# The function processes run on the project's Node (node_modules/node when installed, as
# Lambda runs nodejs22.x), else the node on PATH.
node_bin=$REPO_ROOT/node_modules/node/bin/node
[[ -x "$node_bin" ]] || node_bin=$(command -v node)

env -i PATH="$PATH" HOME="$HOME" LANG="${LANG:-C.UTF-8}" \
  GATEWAY_LISTEN="$hostport" \
  SERVICES=lambda,stepfunctions,apigateway,ssm,iam,logs,s3,cloudformation,sts,scheduler,events \
  LAMBDA_RUNTIME_EXECUTOR=etl-host \
  LAMBDA_IGNORE_ARCHITECTURE=1 \
  LAMBDA_KEEPALIVE_MS="${LAMBDA_KEEPALIVE_MS:-600000}" \
  OVERRIDE_IN_DOCKER=0 \
  FILESYSTEM_ROOT="$RUN_DIR/fs" \
  TMPDIR="$RUN_DIR/tmp" \
  XDG_CACHE_HOME="$RUN_DIR/cache" \
  DNS_ADDRESS=0 \
  SKIP_SSL_CERT_DOWNLOAD=1 \
  DISABLE_EVENTS=1 \
  ETL_LAMBDA_NODE="$node_bin" \
  ETL_LAMBDA_LOG_DIR="$RUN_DIR/lambda" \
  DEBUG="${LOCALSTACK_DEBUG:-0}" \
  setsid "$venv/bin/python" -m localstack.runtime.main >"$RUN_DIR/localstack.log" 2>&1 </dev/null &
pid=$!
echo "$pid" >"$RUN_DIR/localstack.pid"

for ((waited = 0; ; waited++)); do
  if curl -fsS -o /dev/null --max-time 2 "$LOCALSTACK_ENDPOINT/_localstack/health" 2>/dev/null; then break; fi
  if ! kill -0 "$pid" 2>/dev/null || ((waited >= 120)); then
    echo "LocalStack did not come up at $LOCALSTACK_ENDPOINT (log: $RUN_DIR/localstack.log):" >&2
    tail -n 40 "$RUN_DIR/localstack.log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "LocalStack $($venv/bin/python -c 'import importlib.metadata as m; print(m.version("localstack-core"))') on the host at $LOCALSTACK_ENDPOINT (pid $pid, process group $(ps -o pgid= -p "$pid" | tr -d ' '))"
