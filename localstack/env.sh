# Shared settings of the LocalStack scripts (sourced, not run). Every value can be overridden
# from the environment. Two ways to run LocalStack share them: the Docker path (up.sh, compose)
# and the host path (host/test.sh: LocalStack as a host process, functions as Node processes).
LOCALSTACK_ENDPOINT=${LOCALSTACK_ENDPOINT:-http://127.0.0.1:4566} # the IP, not localhost: S3 path-style URLs
STAGE=${LOCALSTACK_STAGE:-localstack}
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_DEFAULT_REGION=$AWS_REGION
# LocalStack accepts any credentials; these keep real ones out of the way.
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
unset AWS_PROFILE AWS_SESSION_TOKEN
# The same key as serverless.yml's localstack stage (API Gateway key and the functions' check).
export API_KEY=${API_KEY:-localstack-demo-api-key-0001}

# As the host sees the databases (migrations, demo checks)...
HOST_DATABASE_URL=${LOCALSTACK_HOST_DATABASE_URL:-postgres://etl:etl@127.0.0.1:55432/etl}
# (an empty search URL, set explicitly, means no search engine: the demo skips that scenario)
HOST_ES_URL=${LOCALSTACK_HOST_ES_URL-http://127.0.0.1:9200}
# ...and as the functions see them (Docker: on the compose network): these go to SSM.
LAMBDA_DATABASE_URL=${LOCALSTACK_LAMBDA_DATABASE_URL:-postgres://etl:etl@postgres:5432/etl}
LAMBDA_ES_URL=${LOCALSTACK_LAMBDA_ES_URL-http://elasticsearch:9200}

# Named connections (DESIGN.md "Connections"): every ETL_CONNECTION_<NAME>=<postgres URL> in the
# environment, as the functions reach it, becomes the SecureString connections/<name> and a name
# in ETL_CONNECTIONS, which serverless.yml reads at deploy time.
connection_names() {
  compgen -e | sed -n 's/^ETL_CONNECTION_\([A-Z0-9_]*\)$/\1/p' | tr 'A-Z' 'a-z' | paste -sd, -
}

# The SecureStrings deploy.sh writes, `<name under /etl/<stage>/>=<value>`, one per line; an empty
# value writes nothing (an optional secret left unset). LOCALSTACK_EXTRA_SECRETS adds lines in the
# same form, without editing this file.
localstack_secrets() {
  printf '%s\n' "database-url=$LAMBDA_DATABASE_URL" "es-url=$LAMBDA_ES_URL"
  local name variable
  for name in $(connection_names | tr ',' ' '); do
    variable=ETL_CONNECTION_$(tr 'a-z' 'A-Z' <<<"$name")
    printf '%s\n' "connections/$name=${!variable}"
  done
  [[ -n "${LOCALSTACK_EXTRA_SECRETS:-}" ]] && printf '%s\n' "$LOCALSTACK_EXTRA_SECRETS"
  return 0
}

COMPOSE_FILE_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/docker-compose.yml"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The AWS CLI (v1 or v2): AWS_CLI, else `aws` on PATH, else the one host/install.sh puts in the
# host-mode venv.
if [[ -z "${AWS_CLI:-}" ]]; then
  if command -v aws >/dev/null 2>&1; then AWS_CLI=aws; else AWS_CLI="$REPO_ROOT/.cache/localstack/venv/bin/aws"; fi
fi
awsls() { "$AWS_CLI" --endpoint-url "$LOCALSTACK_ENDPOINT" --region "$AWS_REGION" "$@"; }
