#!/usr/bin/env bash
# A plain `cargo lambda watch` serves the API against `make db`, with nothing but the
# environment in Cargo.toml's [workspace.metadata.lambda.env] (the fixed port 8000, table
# `storefront`, the key in .local/). Both run in private network and mount namespaces, so the
# fixed ports and .local/ (a fresh tmpfs here) are this test's own, whatever the machine runs.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--inside" ]; then
  mkdir -p .local
  exec unshare --map-root-user --net --mount "$0" --inside
fi

ip link set lo up
mount -t tmpfs tmpfs .local
log=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -INT -- "-$p" 2>/dev/null || true; done; sleep 1; for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done; rm -rf "$log"; }
trap cleanup EXIT

setsid make --no-print-directory db >"$log/db" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 1 600); do grep -q "DynamoDB is ready at http://127.0.0.1:8000" "$log/db" && break; sleep 0.5; done
grep -q "DynamoDB is ready" "$log/db" || { cat "$log/db"; exit 1; }

PATH="$PWD/.venv/bin:$PATH" setsid cargo lambda watch >"$log/watch" 2>&1 </dev/null &
pids+=($!)
for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null && break; sleep 0.5; done

failures=0
check() { if "${@:2}"; then echo "  ok   $1"; else echo "  FAIL $1"; failures=$((failures + 1)); fi; }
api=http://127.0.0.1:9000
token=$(curl -s -X POST "$api/auth/login" -H 'content-type: application/json' \
  -d '{"email": "admin@storefront.local", "password": "storefront-admin"}' | python3 -c 'import json,sys; print(json.load(sys.stdin).get("accessToken", ""))')
check "the admin make db seeded signs in through cargo lambda watch" test -n "$token"
role=$(curl -s "$api/me" -H "authorization: Bearer $token" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("role"))')
check "the token works on another function (the same key file)" test "$role" = admin
count=$(curl -s "$api/products?limit=5" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
check "the demo catalog make db seeded is listed" test "$count" = 5
categories=$(curl -s "$api/categories" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
check "categories are counted (the same table)" test "$categories" -gt 0
echo "$(( 4 - failures )) passed, $failures failed"
if [ "$failures" -gt 0 ]; then tail -30 "$log/db" "$log/watch"; exit 1; fi
