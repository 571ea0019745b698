#!/usr/bin/env bash
# npm run test:localstack: the LocalStack path end to end, on the host, without Docker.
#   1. installs host-mode LocalStack, the AWS CLI and the host executor (cached under .cache/)
#   2. starts the embedded PostgreSQL on a free port, applies the migrations, seeds the catalogue
#   3. starts LocalStack (host/start.sh), deploys with localstack/deploy.sh (SSM SecureStrings,
#      then `sls deploy --stage localstack`), runs the demo (localstack/demo.sh) through the
#      LocalStack API Gateway URL that localstack/api-url.sh prints
#   4. stops everything it started, on success and on failure, and checks that nothing is left.
# Exits non-zero when a step or a demo check fails. KEEP_RUN_DIR=1 keeps .cache/localstack/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO_ROOT=$PWD
export RUN_DIR=$REPO_ROOT/.cache/localstack/run
started_at=$SECONDS
log() { printf '[test:localstack %4ds] %s\n' "$((SECONDS - started_at))" "$*"; }

free_port() { node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'; }
port_free() { node -e 'const s = require("net").createServer().once("error", () => process.exit(1)).listen(Number(process.argv[1]), "127.0.0.1", () => s.close())' "$1"; }

# Processes of a group that still run (a zombie has ended; its parent has not reaped it yet).
alive_in_group() { ps -o pid=,stat=,args= -g "$1" 2>/dev/null | awk '$2 !~ /^Z/'; }

db_pid=''
cleanup() {
  local status=$?
  set +e
  local recorded
  recorded=$(ls "$RUN_DIR"/lambda/ 2>/dev/null | sed -n 's/\.pid$//p')
  log "stopping LocalStack and the $(wc -w <<<"$recorded") function processes it runs"
  bash localstack/host/stop.sh
  if [[ -n "$db_pid" ]] && kill -0 "$db_pid" 2>/dev/null; then
    log "stopping PostgreSQL"
    kill -TERM "$db_pid"
    for _ in $(seq 1 60); do [[ -z "$(alive_in_group "$db_pid")" ]] && break; sleep 0.25; done
    [[ -n "$(alive_in_group "$db_pid")" ]] && kill -KILL -- "-$db_pid"
  fi
  # What this run started and is still alive (zombies, already dead, do not count): the two
  # process groups, and every function process the executor recorded.
  local left='' group pid
  for group in "$(cat "$RUN_DIR/localstack.pgid" 2>/dev/null)" "$db_pid"; do
    [[ -n "$group" ]] && left+=$(alive_in_group "$group")
  done
  for pid in $recorded; do
    left+=$(ps -o pid=,stat=,args= -p "$pid" 2>/dev/null | awk '$2 !~ /^Z/')
  done
  if [[ -n "$left" ]]; then
    log "processes left behind:"; echo "$left"; status=1
  else
    log "nothing left running"
  fi
  if ((status != 0)); then
    log "logs: LocalStack $RUN_DIR/localstack.log (last lines below), functions $RUN_DIR/lambda/, PostgreSQL $RUN_DIR/postgres.log"
    tail -n 30 "$RUN_DIR/localstack.log" 2>/dev/null
    for file in "$RUN_DIR"/lambda/*.log; do [[ -e "$file" ]] && { echo "--- $file"; tail -n 15 "$file"; }; done
  fi
  if [[ "${KEEP_RUN_DIR:-0}" != 1 && $status == 0 ]]; then rm -rf "$RUN_DIR"; fi
  log "$([[ $status == 0 ]] && echo passed || echo FAILED) in $((SECONDS - started_at)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "installing host-mode LocalStack (cached in .cache/localstack/venv)"
bash localstack/host/install.sh
export AWS_CLI=$REPO_ROOT/.cache/localstack/venv/bin/aws

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
chmod 755 "$RUN_DIR" # the embedded PostgreSQL runs as the postgres user when we are root

pg_port=$(free_port)
ls_port=4566
port_free "$ls_port" || { ls_port=$(free_port); log "port 4566 is taken: LocalStack on $ls_port"; }
export LOCALSTACK_ENDPOINT=http://127.0.0.1:$ls_port
export LOCALSTACK_HOST_DATABASE_URL=postgres://postgres:postgres@127.0.0.1:$pg_port/etl
# The functions are host processes: they reach the same PostgreSQL on loopback. No search
# engine here: the demo skips its search scenario.
export LOCALSTACK_LAMBDA_DATABASE_URL=$LOCALSTACK_HOST_DATABASE_URL
export LOCALSTACK_HOST_ES_URL='' LOCALSTACK_LAMBDA_ES_URL=''

log "starting the embedded PostgreSQL on 127.0.0.1:$pg_port"
env -u DATABASE_URL PGPORT=$pg_port ETL_DATA_DIR="$RUN_DIR/data" \
  setsid node_modules/.bin/tsx tools/local/db-command.ts start >"$RUN_DIR/postgres.log" 2>&1 </dev/null &
db_pid=$!
for ((waited = 0; ; waited++)); do
  grep -q 'PostgreSQL ready' "$RUN_DIR/postgres.log" 2>/dev/null && break
  if ! kill -0 "$db_pid" 2>/dev/null || ((waited >= 240)); then
    log "PostgreSQL did not start:"; cat "$RUN_DIR/postgres.log"; exit 1
  fi
  sleep 0.25
done

log "migrations and demo catalogue (localstack/migrate.sh)"
bash localstack/migrate.sh
log "demo connections catalogue and warehouse (roles, second database; deploy.sh stores them in SSM)"
eval "$(DATABASE_URL=$LOCALSTACK_HOST_DATABASE_URL node_modules/.bin/tsx tools/local/db-command.ts demo-connections)"

log "starting LocalStack on the host (localstack/host/start.sh)"
bash localstack/host/start.sh
ps -o pgid= -p "$(cat "$RUN_DIR/localstack.pid")" | tr -d ' ' >"$RUN_DIR/localstack.pgid"

log "deploying the localstack stage (localstack/deploy.sh)"
bash localstack/deploy.sh

api_url=$(bash localstack/api-url.sh)
log "API key on $api_url: none and a wrong one are refused, the deployed one is accepted"
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 30 "$@"; }
expect_status() { # expected, description, curl arguments...
  local expected=$1 description=$2 got
  shift 2
  got=$(status_of "$@")
  if [[ "$got" != "$expected" ]]; then log "FAIL $description: HTTP $got, expected $expected"; exit 1; fi
  log "  ok  $description: HTTP $got"
}
expect_status 200 'GET /health without a key' "$api_url/health"
expect_status 403 'GET /pipelines without a key' "$api_url/pipelines"
expect_status 403 'GET /pipelines with a wrong key' -H 'x-api-key: not-the-key' "$api_url/pipelines"
expect_status 200 'GET /pipelines with the key' -H "x-api-key: ${API_KEY:-localstack-demo-api-key-0001}" "$api_url/pipelines"

log "running the demo through LocalStack's API Gateway (localstack/demo.sh)"
bash localstack/demo.sh
log "demo passed"
# The functions' output reaches LocalStack's CloudWatch Logs (runPipeline logs "run requested").
events=$(source localstack/env.sh && awsls logs filter-log-events \
  --log-group-name /aws/lambda/etl-localstack-runPipeline --filter-pattern '"run requested"' --query 'length(events)' --output text)
if [[ ! "$events" =~ ^[0-9]+$ ]] || ((events == 0)); then log "FAIL no 'run requested' event in the runPipeline log group ($events)"; exit 1; fi
log "  ok  runPipeline's log group in LocalStack holds $events 'run requested' events"
