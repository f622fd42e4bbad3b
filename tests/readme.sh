#!/usr/bin/env bash
# Runs the README's walkthroughs exactly as written, in one bash session, against the local stack
# started as `make run` starts it. Only the port is changed (to a free one). The stack gets the
# one-minute payment window the README's expiry step asks for, so no restart is needed. Fails on
# any unset variable or failing pipeline in the README's commands, on any 500, and when an
# outcome the README promises does not show up.
set -euo pipefail
cd "$(dirname "$0")/.."

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -INT -- "-$pid" 2>/dev/null || true; sleep 2; kill -KILL -- "-$pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

STOREFRONT_PORT=$port STOREFRONT_DATA_DIR="$data/local" PAYMENT_WINDOW_MINUTES=1 \
  setsid make --no-print-directory run >"$data/run.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 600); do
  grep -q "storefront is ready" "$data/run.log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$data/run.log"; exit 1; }
  sleep 0.5
done

# The walkthrough code blocks, in order; the block that only (re)starts make run is skipped.
python3 - "$port" >"$data/walkthrough.sh" <<'PY'
import re, sys
port = sys.argv[1]
text = open("README.md").read()
sections = re.split(r"^## ", text, flags=re.M)
print("set -euo pipefail")
for section in sections:
    if not section.startswith("Walkthrough:"):
        continue
    # Only the walkthrough itself: reference subsections (### …) hold diagrams, not commands.
    section = section.split("\n### ")[0]
    for block in re.findall(r"^```\n(.*?)^```", section, flags=re.M | re.S):
        if block.strip().endswith("make run") and len(block.strip().splitlines()) == 1:
            continue
        block = block.replace("127.0.0.1:9000", f"127.0.0.1:{port}").replace("--invoke-port 9000", f"--invoke-port {port}")
        print(block)
        print('echo')
PY
echo "--- running $(grep -c 'curl ' "$data/walkthrough.sh") curl commands from README.md's walkthroughs"
if ! bash "$data/walkthrough.sh" >"$data/out.txt" 2>&1; then
  echo "the README's commands failed:"; tail -20 "$data/out.txt"; exit 1
fi

failures=0
expect() { # expect DESCRIPTION REGEX
  if grep -Eq -- "$2" "$data/out.txt"; then echo "  ok   $1"; else echo "  FAIL $1"; failures=$((failures + 1)); fi
}
refuse() { # refuse DESCRIPTION REGEX
  if grep -Eq -- "$2" "$data/out.txt"; then echo "  FAIL $1"; failures=$((failures + 1)); else echo "  ok   $1"; fi
}
expect "accounts: a second sign-up with the same email is email_taken" '"code":"email_taken"'
expect "accounts: a role change is refused field by field" '"field":"role"'
expect "accounts: the seeded admin signs in as an admin" '"role":"admin"'
expect "catalog: 'wire mou' finds the Wireless Mouse" '"name":"Wireless Mouse"'
expect "catalog: a matching If-None-Match answers 304" '(^|})304$'
expect "catalog: a stale If-Match is version_mismatch" '"code":"version_mismatch"'
expect "catalog: an admin creates the Desk Lamp" '"sku":"DL-200"'
expect "checkout: the quote and the order total 6478" '"totalCents":6478'
expect "checkout: the order awaits payment" '"status":"pending_payment"'
expect "lifecycle: the signed webhook is received" '"received":true'
expect "lifecycle: the order is paid" '"status": "paid"'
expect "lifecycle: a bad signature is invalid_signature" '"code":"invalid_signature"'
expect "lifecycle: the order is delivered" '"status":"delivered"'
expect "lifecycle: a second cancel is invalid_transition" '"code":"invalid_transition"'
expect "lifecycle: the expiry cancels the unpaid order" '"cancelled": ?1'
expect "lifecycle: the unpaid order was cancelled by expiry" '^expiry$'
refuse "no command answered 500 internal" '"code":"internal"'
refuse "no command lost its token (401 unauthenticated)" '"code":"unauthenticated"'
echo "$(( 18 - failures )) passed, $failures failed"
[ "$failures" -eq 0 ] || { echo "--- output"; cat "$data/out.txt"; exit 1; }
