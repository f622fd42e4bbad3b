#!/usr/bin/env bash
# Runs the README's walkthroughs exactly as written against the local stack, started as `make run`
# starts it. Only the ports change, to free ones: the API's (`127.0.0.1:9000` and
# `--invoke-port 9000` in the commands), DynamoDB's (STOREFRONT_DB_PORT), S3's
# (STOREFRONT_S3_PORT; the walkthroughs take image URLs from answers) and the event bus's
# (STOREFRONT_EVENTS_PORT) and the webhooks walkthrough's receiver (8088), so a developer's
# `make run` or `make db` can keep running. The stack gets the one-minute payment window the
# expiry walkthrough asks for, so its `PAYMENT_WINDOW_MINUTES=1 make run` block is not run.
#
# Each `## Walkthrough: …` section runs in its own fresh bash (`set -euo pipefail`, a bare
# environment), so a walkthrough that uses a variable only another one sets fails here. All of
# them run twice, in README order and then in reverse, so none may depend on running first, on
# another having run, or on what an earlier run left. The test fails on an unset variable or a
# failing pipeline, on any 500 or lost token, and when an outcome the README promises does not
# show up.
set -euo pipefail
cd "$(dirname "$0")/.."

read -r port db_port s3_port events_port hook_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
data=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill -INT -- "-$pid" 2>/dev/null || true; sleep 2; kill -KILL -- "-$pid" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

# The walkthroughs: one script per `## Walkthrough: …` section, holding its ```sh blocks in order
# (those of its `### …` reference subsections are not run), and a manifest of their names.
mkdir -p "$data/walkthroughs" "$data/out"
python3 - "$port" "$data/walkthroughs" "$hook_port" <<'PY'
import pathlib, re, sys
port, out, hook_port = sys.argv[1], pathlib.Path(sys.argv[2]), sys.argv[3]
text = pathlib.Path("README.md").read_text()
names = []
for section in re.split(r"^## ", text, flags=re.M)[1:]:
    title, _, body = section.partition("\n")
    if not title.startswith("Walkthrough: "):
        continue
    name = re.sub(r"[^a-z0-9]+", "-", title.removeprefix("Walkthrough: ").lower()).strip("-")
    body = re.split(r"^### ", body, flags=re.M)[0]
    blocks, block, info = [], None, ""
    for line in body.splitlines(keepends=True):
        if line.startswith("```"):
            if block is None:
                block, info = [], line[3:].strip()
            else:
                if info == "sh":
                    blocks.append("".join(block))
                block = None
        elif block is not None:
            block.append(line)
    # `make run` itself (with the expiry walkthrough's one-minute window) is what this test starts.
    blocks = [b for b in blocks if not re.fullmatch(r"(\w+=\S+ )*make run\n", b)]
    if not blocks:
        sys.exit(f"README.md: the section '{title}' has no ```sh block")
    script = ["set -euo pipefail\n"]
    for b in blocks:
        b = b.replace("127.0.0.1:9000", f"127.0.0.1:{port}").replace("--invoke-port 9000", f"--invoke-port {port}")
        script.append(b.replace("127.0.0.1:8088", f"127.0.0.1:{hook_port}").replace("webhook-receiver.py 8088", f"webhook-receiver.py {hook_port}"))
        script.append("echo\n")
    (out / f"{name}.sh").write_text("".join(script))
    names.append(name)
if not names:
    sys.exit("README.md has no '## Walkthrough: …' section")
(out / "manifest").write_text("".join(n + "\n" for n in names))
PY
walkthroughs=()
while read -r name; do walkthroughs+=("$name"); done < "$data/walkthroughs/manifest"
echo "--- ${#walkthroughs[@]} walkthroughs, $(cat "$data"/walkthroughs/*.sh | grep -c 'curl ') curl commands: ${walkthroughs[*]}"

echo "--- starting the stack on 127.0.0.1:$port (DynamoDB on 127.0.0.1:$db_port)"
STOREFRONT_PORT=$port STOREFRONT_DB_PORT=$db_port STOREFRONT_S3_PORT=$s3_port STOREFRONT_EVENTS_PORT=$events_port STOREFRONT_DATA_DIR="$data/local" PAYMENT_WINDOW_MINUTES=1 \
  setsid make --no-print-directory run >"$data/run.log" 2>&1 </dev/null &
pid=$!
ready=""
for _ in $(seq 1 1200); do
  if grep -q "storefront is ready" "$data/run.log"; then ready=yes; break; fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
[ -n "$ready" ] || { echo "make run did not get ready:"; cat "$data/run.log"; exit 1; }

# A walkthrough gets a bare environment: what a fresh terminal has, and nothing from this script.
# The stack's data folder is this test's own: a developer would leave STOREFRONT_DATA_DIR unset
# and read .local (the webhooks walkthrough reads the emails there).
fresh_env=(PATH="$PATH" HOME="$HOME" STOREFRONT_DATA_DIR="$data/local")
for name in TMPDIR LANG LC_ALL STOREFRONT_PAYMENT_WEBHOOK_SECRET; do
  if [ -n "${!name:-}" ]; then fresh_env+=("$name=${!name}"); fi
done

checks=0
failures=0
failed_outputs=()
check() { # check DESCRIPTION COMMAND...: passes when the command succeeds
  local description=$1
  shift
  checks=$((checks + 1))
  if "$@"; then
    echo "  ok   $description"
  else
    echo "  FAIL $description"
    failures=$((failures + 1))
  fi
}
out() { echo "$data/out/$run-$1.txt"; }
has() { [ -f "$(out "$1")" ] && grep -Eq -- "$2" "$(out "$1")"; }                 # has WALKTHROUGH REGEX
lacks() { [ -f "$(out "$1")" ] && ! grep -Eq -- "$2" "$(out "$1")"; }             # lacks WALKTHROUGH REGEX
times() { [ "$(grep -Eo -- "$2" "$(out "$1")" | wc -l)" -eq "$3" ]; }             # times WALKTHROUGH REGEX N
# The stock figures a walkthrough printed with `jq -c '{stock}'`, in order, space-separated.
stocks() { grep -Eo '\{"stock":[0-9]+\}' "$(out "$1")" | grep -Eo '[0-9]+' | paste -sd' ' -; }
stocks_are() { [ "$(stocks "$1")" = "$2" ]; }                                     # stocks_are WALKTHROUGH "N M …"
stock_fell_by() { # stock_fell_by WALKTHROUGH N: it printed two figures, the second N below the first
  local figures
  read -r -a figures <<<"$(stocks "$1")"
  [ "${#figures[@]}" -eq 2 ] && [ $((figures[0] - figures[1])) -eq "$2" ]
}

for run in 1 2; do
  if [ "$run" = 1 ]; then
    order=("${walkthroughs[@]}")
    echo "--- run 1: each walkthrough in its own fresh bash, in README order"
  else
    order=()
    for ((i = ${#walkthroughs[@]} - 1; i >= 0; i--)); do order+=("${walkthroughs[i]}"); done
    echo "--- run 2: again, in reverse order, on the data the first run left"
  fi
  for name in "${order[@]}"; do
    if env -i "${fresh_env[@]}" bash "$data/walkthroughs/$name.sh" >"$(out "$name")" 2>&1; then
      check "$name: runs to the end by itself" true
    else
      check "$name: runs to the end by itself (it stopped; its output is below)" false
      failed_outputs+=("$(out "$name")")
    fi
  done

  for name in "${walkthroughs[@]}"; do
    check "$name: no command answered 500 internal" lacks "$name" '"code":"internal"'
    check "$name: no command lost its token (401 unauthenticated)" lacks "$name" '"code":"unauthenticated"'
  done

  check "accounts: a second sign-up with the same email in capitals is email_taken" has accounts '"code":"email_taken"'
  check "accounts: a wrong password is invalid_credentials" has accounts '"code":"invalid_credentials"'
  check "accounts: a role change is refused field by field" has accounts '"field":"role"'
  check "accounts: the seeded admin signs in as an admin" has accounts '"role": "admin"'
  check "accounts: a refresh answers a new pair and the session list shows both sessions" has accounts '"current":true'

  id=shopper-identity
  check "$id: the guest cart holds two slide rules" has $id '^\{"items":\[\{"name":"Slide Rule","quantity":2\}\],"subtotalCents":3600\}$'
  check "$id: registering with the guest cart merges its line" has $id '"emailVerified":false,"cartMerge":\{"lines":1,"capped":\[\]\}'
  check "$id: the account's cart holds it and the guest cart is empty" has $id '^\[\{"name":"Slide Rule","quantity":2\}\]$'
  check "$id: … and the guest cart is empty" has $id '^\{"guestItems":\[\]\}$'
  check "$id: the emailed verification code verifies the address" has $id '"emailVerified":true\}$'
  check "$id: the order ships to the saved address" has $id '^\{"status":"pending_payment","totalCents":[0-9]+,"shipTo":"Hampton"\}$'
  check "$id: refresh answers a new pair" has $id '^\{"tokenType":"Bearer","expiresIn":900,"refreshExpiresIn":[0-9]+\}$'
  check "$id: sign-out is 204 and the token is then session_revoked" bash -c "grep -qx 'logout 204' '$(out $id)' && grep -q '\"code\":\"session_revoked\"' '$(out $id)'"
  check "$id: a reset is asked for (202) and confirmed with the emailed code (204)" bash -c "grep -qx 'reset 202' '$(out $id)' && grep -qx 'confirm 204' '$(out $id)'"
  check "$id: the code works once" has $id '^\{"status":400,"code":"invalid_token"\}$'
  check "$id: the new password signs in" has $id '^\{"signedIn":"katherine\.[0-9]+@example\.com","emailVerified":true\}$'

  check "catalog: 'wire mou' finds the Wireless Mouse" has catalog '"name":"Wireless Mouse"'
  check "catalog: the next page's cursor is accepted" lacks catalog '"code":"invalid_cursor"'
  check "catalog: a matching If-None-Match answers 304" has catalog '(^|})304$'
  check "catalog: the same SKU in capitals is sku_taken" has catalog '"code":"sku_taken"'
  check "catalog: a stale If-Match is version_mismatch" has catalog '"code":"version_mismatch"'
  check "catalog: adding 10 units makes 22" has catalog '"stock":22,'
  check "catalog: stock below zero is insufficient_stock, with what is available" has catalog '"code":"insufficient_stock".*"available":22.*"requested":100'
  check "catalog: archiving answers 204" has catalog '(^|})204$'
  check "catalog: shoppers no longer find the archived product" has catalog '"code":"product_not_found"'
  check "catalog: admins still see it, inactive" has catalog '"active":false'

  check "variants: the presigned upload names the signed headers" has options-variants-and-stock '^\{"method":"PUT","headers":\["content-length","content-type"\]\}$'
  check "variants: the bucket takes the upload" has options-variants-and-stock '^200$'
  check "variants: completing attaches the 96×96 picture" has options-variants-and-stock '^\{"alt":"Classic Tee, blue","width":96,"height":96\}$'
  check "variants: the image URL opens, as a PNG" has options-variants-and-stock '^200 image/png$'
  check "variants: bytes that are no image are invalid_image" has options-variants-and-stock '"code":"invalid_image".*"reason":"not_an_image"'
  check "variants: the cart line shows the variant's picture" has options-variants-and-stock '^\{"image":true\}$'
  check "variants: the tee has 4 variants from 1900 to 2300, 15 in stock" has options-variants-and-stock '^\{"priceCents":1900,"priceRange":\{"minCents":1900,"maxCents":2300\},"stock":15\}$'
  check "variants: each variant is shown with its options" has options-variants-and-stock '"options":\{"Colour":"Blue","Size":"L"\},"priceCents":2300,"stock":2\}$'
  check "variants: 'red tee' finds the Classic Tee" has options-variants-and-stock '^\["Classic Tee"\]$'
  check "variants: a product id of a product with options is variant_required" has options-variants-and-stock '"code":"variant_required"'
  check "variants: the cart line names the variant" has options-variants-and-stock '"options":\{"Colour":"Blue","Size":"L"\},"quantity":2\}$'
  check "variants: the order reserves both units" has options-variants-and-stock '^\{"onHand":2,"reserved":2,"available":0\}$'
  check "variants: the cancel releases them, and the other variants never moved" has options-variants-and-stock 'L-BLUE","onHand":2,"reserved":0,"available":2\}\]$'
  check "variants: a shelf count sets onHand" has options-variants-and-stock '^\{"onHand":10,"reserved":0,"available":10\}$'

  check "checkout: two presses make a subtotal of 5998" has cart-and-checkout '"subtotalCents":5998'
  check "checkout: the new discount code has no redemptions yet" has cart-and-checkout '"percentOff":10,"perCustomerLimit":1,"active":true,"redemptions":0'
  check "checkout: the quote takes 600 off" has cart-and-checkout '"discountCents":600'
  check "checkout: the quote and the order total 6478 (quote, order, replay)" times cart-and-checkout '"totalCents":6478,' 3
  check "checkout: the order awaits payment" has cart-and-checkout '"status":"pending_payment"'
  check "checkout: an order without a key is idempotency_key_required" has cart-and-checkout '"code":"idempotency_key_required"'
  check "checkout: the customer has exactly one order" has cart-and-checkout '\[\{"status":"pending_payment","totalCents":6478\}\]$'
  check "checkout: the order took 2 from stock" stock_fell_by cart-and-checkout 2
  check "checkout: the code was redeemed once" has cart-and-checkout '"redemptions":1\}$'
  check "checkout: the order emptied the cart" has cart-and-checkout '"items":\[\],"subtotalCents":0'

  check "lifecycle: the signed webhook is received" has order-lifecycle '"received":true'
  check "lifecycle: the webhook made the order paid" has order-lifecycle '"status": "paid"'
  check "lifecycle: the order's total is 2000 (1500 and 500 shipping)" has order-lifecycle '"totalCents": 2000'
  check "lifecycle: a forged signature is invalid_signature" has order-lifecycle '"code":"invalid_signature"'
  check "lifecycle: the payment is in the history" has order-lifecycle '\["paid","payment:evt_'
  check "lifecycle: the order is delivered, by an admin" has order-lifecycle '^\["delivered","admin:'
  check "lifecycle: the admin list has the delivered order on top" has order-lifecycle '^true$'
  check "lifecycle: the customer cancels the second order" has order-lifecycle '^cancelled$'
  check "lifecycle: stock 3 after the second order, 4 after its cancel" stocks_are order-lifecycle "3 4"
  check "lifecycle: both refused cancels are invalid_transition" times order-lifecycle '"code":"invalid_transition"' 2
  check "lifecycle: archiving the mug answers 204" has order-lifecycle '(^|})204$'

  check "expiry: stock 4 after the unpaid order, 5 after the expiry" stocks_are expiry-of-unpaid-orders "4 5"
  check "expiry: the expiry answers its report" has expiry-of-unpaid-orders '"cancelled": ?[0-9]'
  check "expiry: the unpaid order was cancelled by expiry" has expiry-of-unpaid-orders '^expiry$'
  check "expiry: archiving the mug answers 204" has expiry-of-unpaid-orders '(^|})204$'

  id=money-both-ways
  check "$id: the order awaits its payment with the manual provider" has $id '^\{"status":"pending_payment","totalCents":3300,"payment":\{"provider":"manual","status":"pending"\}\}$'
  check "$id: the payment captured the total" has $id '^\{"status":"paid","capturedCents":3300,"paymentStatus":"paid"\}$'
  check "$id: the damaged notebook is refunded and restocked" has $id '^\{"amountCents":1200,"status":"succeeded","restocked":true\}$'
  check "$id: the same key made one refund" has $id '^\{"refunds":1\}$'
  check "$id: the order is delivered" has $id '^delivered$'
  check "$id: the pen's return is requested and listed" bash -c "grep -qx '{\"status\":\"requested\"}' '$(out $id)' && grep -qx 'true' '$(out $id)'"
  check "$id: the return is received and refunded" has $id '^\{"status":"received","refunded":true\}$'
  check "$id: notebooks back to 4, pens back to 5" stocks_are $id "4 5"
  check "$id: the refunds, oldest first" has $id '^\[\{"amountCents":1200,"source":"admin","status":"succeeded"\},\{"amountCents":400,"source":"return","status":"succeeded"\}\]$'
  check "$id: the order has 1600 back" has $id '^\{"refundedCents":1600,"paymentStatus":"partially_refunded"\}$'
  check "$id: the lines say what went back" has $id '"name":"Fountain Pen","quantity":1,"refundedQuantity":1,"returnedQuantity":1,"restockedQuantity":1\}\]$'
  check "$id: more than is left is refund_exceeds_payment" has $id '^\{"status":409,"code":"refund_exceeds_payment","refundableCents":1700\}$'
  check "$id: both refunds were emailed" has $id '^2$'

  check "webhooks: registering answers the endpoint and its whsec_ secret" has webhooks '"enabled":true,"secret":"whsec_'
  check "webhooks: the receiver verified the order.placed delivery" has webhooks '^verified order\.placed [0-9A-Z]{26} order:[0-9A-Z]{26}$'
  check "webhooks: the receiver verified the order.paid delivery" has webhooks '^verified order\.paid [0-9A-Z]{26} order:[0-9A-Z]{26}$'
  check "webhooks: the receiver refused nothing" lacks webhooks '^refused'
  check "webhooks: both deliveries succeeded at the first attempt" times webhooks '"status":"succeeded","attempts":1,"lastResponseStatus":200' 2
  check "webhooks: the retry is a second attempt that succeeds" has webhooks '^\{"status":"succeeded","attempts":2\}$'
  check "webhooks: the receiver verified the retried delivery again" times webhooks '^verified order\.placed ' 2
  check "webhooks: the confirmation email was written" has webhooks '^Subject: Your storefront \(local\) order [0-9A-Z]{26}'
  check "webhooks: deleting the endpoint and archiving the kite answer 204" times webhooks '(^|})204$' 2
done

echo "$((checks - failures)) passed, $failures failed"
if [ "$failures" -ne 0 ]; then
  for file in ${failed_outputs[@]+"${failed_outputs[@]}"}; do echo "--- $(basename "$file" .txt) (stopped)"; tail -30 "$file"; done
  echo "--- output of every walkthrough in $data/out (run-walkthrough.txt):"
  for file in "$data"/out/*.txt; do echo "--- $(basename "$file" .txt)"; cat "$file"; echo; done
  exit 1
fi
