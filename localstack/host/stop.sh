#!/usr/bin/env bash
# Stops what host/start.sh started: LocalStack's process group (LocalStack ignores SIGTERM, so
# SIGKILL after a grace period) with the function processes in it, then any function process
# left elsewhere (the executor records their pids).
set -uo pipefail
source "$(dirname "$0")/../env.sh"
RUN_DIR=${RUN_DIR:-$REPO_ROOT/.cache/localstack/run}

stop_group() { # pid of a session leader started with setsid
  local pid=$1 name=$2
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 1 20); do
    # (zombies have ended: LocalStack's parent is gone, so init reaps it)
    [[ -z "$(ps -o stat= -g "$pid" 2>/dev/null | grep -v '^Z')" ]] && { echo "$name stopped"; return 0; }
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null
  sleep 0.5
  echo "$name killed (SIGKILL to process group $pid)"
}

stop_group "$(cat "$RUN_DIR/localstack.pid" 2>/dev/null)" LocalStack
for file in "$RUN_DIR"/lambda/*.pid; do
  [[ -e "$file" ]] || continue
  pid=$(basename "$file" .pid)
  if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null | grep -q 'localstack/host/bootstrap.mjs'; then
    kill -KILL "$pid" && echo "function process $pid killed"
  fi
  rm -f "$file"
done
rm -f "$RUN_DIR/localstack.pid"
