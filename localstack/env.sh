# Shared settings of the LocalStack scripts (sourced, not run). Every value can be overridden
# from the environment.
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

# As the host sees the containers (migrations, demo checks)...
HOST_DATABASE_URL=${LOCALSTACK_HOST_DATABASE_URL:-postgres://etl:etl@127.0.0.1:55432/etl}
HOST_ES_URL=${LOCALSTACK_HOST_ES_URL:-http://127.0.0.1:9200}
# ...and as the Lambda containers see them (on the compose network): these go to SSM.
LAMBDA_DATABASE_URL=${LOCALSTACK_LAMBDA_DATABASE_URL:-postgres://etl:etl@postgres:5432/etl}
LAMBDA_ES_URL=${LOCALSTACK_LAMBDA_ES_URL:-http://elasticsearch:9200}

COMPOSE_FILE_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/docker-compose.yml"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

awsls() { aws --endpoint-url "$LOCALSTACK_ENDPOINT" --region "$AWS_REGION" "$@"; }
