#!/usr/bin/env bash
# End-to-end: starts the local stack exactly as `make run` does (on a free port, with its own
# data directory), drives the README's walkthroughs over HTTP (accounts; catalog; cart, quote,
# order and replay; signed payment webhook, ship, deliver, cancel, expiry), validates answers
# against openapi.yaml, stops it with Ctrl-C (SIGINT), checks nothing is left running, then
# starts it again to prove the data was kept.
set -euo pipefail
cd "$(dirname "$0")/.."

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
db_port=$(free_port)
s3_port=$(free_port)
events_port=$(free_port)
data=$(mktemp -d)
log="$data/run.log"
base="http://127.0.0.1:$port"
pid=""
failures=0
passes=0

stop_stack() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -INT -- "-$pid" 2>/dev/null || true   # what Ctrl-C in a terminal does
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  pid=""
}
receiver=""
cleanup() { stop_stack; [ -n "$receiver" ] && kill "$receiver" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT

start_stack() {
  : > "$log"
  # A one-minute payment window, so the expiry walkthrough below needs to wait only a minute.
  STOREFRONT_PORT=$port STOREFRONT_DB_PORT=$db_port STOREFRONT_S3_PORT=$s3_port STOREFRONT_EVENTS_PORT=$events_port STOREFRONT_DATA_DIR="$data/local" PAYMENT_WINDOW_MINUTES=1 \
    setsid make --no-print-directory run >"$log" 2>&1 < /dev/null &
  pid=$!
  for _ in $(seq 1 600); do
    if grep -q "storefront is ready at $base" "$log"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "make run exited early:"; cat "$log"; exit 1; fi
    sleep 0.5
  done
  echo "make run was not ready within 5 minutes:"; cat "$log"; exit 1
}

# call METHOD PATH [BODY] [TOKEN] [EXTRA-HEADER] -> sets $status, $body and $headers
call() {
  local args=(-s -o "$data/body" -D "$data/headers" -w '%{http_code}' -X "$1" "$base$2")
  [ -n "${3:-}" ] && args+=(-H 'content-type: application/json' --data "$3")
  [ -n "${4:-}" ] && args+=(-H "authorization: Bearer $4")
  [ -n "${5:-}" ] && args+=(-H "$5")
  status=$(curl "${args[@]}")
  body=$(cat "$data/body")
  headers=$(tr -d '\r' < "$data/headers")
}
header() { grep -i "^$1:" <<<"$headers" | head -1 | cut -d' ' -f2-; }

conforms() { .venv/bin/python tests/openapi_check.py "$1" <<<"$body"; }

# json EXPR: a Python expression over the body `v`; a leading `[` indexes it (json "['user']['email']").
json() { python3 -c "import json,sys; v=json.load(sys.stdin); a=sys.argv[1]; print(eval('v'+a if a.startswith('[') else a))" "$1" <<<"$body"; }

check() { # check NAME CONDITION-COMMAND...
  local name=$1; shift
  if "$@"; then passes=$((passes + 1)); echo "  ok   $name"; else failures=$((failures + 1)); echo "  FAIL $name (status $status, body $body)"; fi
}

echo "--- starting the stack on $base"
start_stack
grep -q "created admin account" "$log"
check "make run seeds the admin account on first start" grep -q "created admin account admin@storefront.local" "$log"

call POST /auth/register '{"email":" Grace@Example.com ","password":"correct horse battery staple","name":"Grace Hopper"}'
check "register answers 201 with the normalised email" test "$status" = 201 -a "$(json "['user']['email']")" = grace@example.com
check "the register answer conforms to openapi's Session" conforms Session
call POST /auth/register '{"email":"grace@example.com","password":"correct horse battery staple","name":"Grace Hopper"}'
check "registering the same email again is 409 email_taken" test "$status" = 409 -a "$(json "['code']")" = email_taken
check "the 409 conforms to openapi's Problem" conforms Problem

call POST /auth/login '{"email":"grace@example.com","password":"correct horse battery staple"}'
check "login answers 200 with a bearer token" test "$status" = 200 -a "$(json "['tokenType']")" = Bearer
token=$(json "['accessToken']")
refresh=$(json "['refreshToken']")

echo "--- sessions: refresh, a replayed refresh token, sign-out"
call POST /auth/login '{"email":"grace@example.com","password":"correct horse battery staple"}' "" "user-agent: e2e-second-device"
second=$(json "['accessToken']")
second_refresh=$(json "['refreshToken']")
call POST /auth/refresh '{"refreshToken":"'"$second_refresh"'"}'
check "refresh answers 200 with a new pair" test "$status" = 200 -a "$(json "['refreshToken']")" != "$second_refresh"
check "the refresh answer conforms to openapi's Refreshed" conforms Refreshed
second=$(json "['accessToken']")
call POST /auth/refresh '{"refreshToken":"'"$(json "['refreshToken']")"'"}'
second=$(json "['accessToken']")
call GET /me/sessions "" "$token"
check "the session list shows the three sessions (sign-up, sign-in, second device), the caller's marked current" test "$status" = 200 -a \
  "$(json "len(v['items'])")" = 3 -a "$(json "sum(1 for s in v['items'] if s['current'])")" = 1
check "the session list conforms to openapi's SessionList" conforms SessionList
call POST /auth/refresh '{"refreshToken":"'"$second_refresh"'"}'
check "a refresh token two rotations old, sent again, is 401 session_revoked" test "$status" = 401 -a "$(json "['code']")" = session_revoked
call GET /me "" "$second"
check "and the whole session is revoked" test "$status" = 401 -a "$(json "['code']")" = session_revoked
call POST /auth/login '{"email":"grace@example.com","password":"correct horse battery staple"}'
third=$(json "['accessToken']")
call POST /auth/logout "" "$third"
check "logout answers 204 and the session's token stops working" bash -c "test '$status' = 204 &&
  test \"\$(curl -s -o /dev/null -w '%{http_code}' -H 'authorization: Bearer $third' '$base/me')\" = 401"

call GET /me "" "$token"
check "me returns the signed-in user" test "$status" = 200 -a "$(json "['name']")" = "Grace Hopper"
check "me conforms to openapi's User" conforms User
call GET /me
check "me without a token is 401 unauthenticated" test "$status" = 401 -a "$(json "['code']")" = unauthenticated
call PATCH /me '{"role":"admin"}' "$token"
check "me refuses a role change with 422" test "$status" = 422 -a "$(json "['errors'][0]['field']")" = role

call POST /auth/login '{"email":"admin@storefront.local","password":"storefront-admin"}'
check "the seeded admin can sign in and is an admin" test "$status" = 200 -a "$(json "['user']['role']")" = admin
admin=$(json "['accessToken']")

echo "--- webhooks: a receiver on loopback, verifying with the official standardwebhooks library"
hook_port=$(free_port)
call POST /admin/webhooks '{"url":"http://127.0.0.1:'"$hook_port"'/hooks","events":["order.placed","order.paid","order.shipped"]}' "$admin"
check "registering a webhook answers 201 with a whsec_ secret" test "$status" = 201 -a "$(json "['secret'][:6]")" = whsec_
check "the registration conforms to openapi's WebhookWithSecret" conforms WebhookWithSecret
hook_id=$(json "['id']")
hook_secret=$(json "['secret']")
.venv/bin/python tools/webhook-receiver.py "$hook_port" "$hook_secret" >"$data/receiver.log" 2>&1 &
receiver=$!
call GET "/admin/webhooks/$hook_id" "" "$admin"
check "an endpoint read back never shows its secret" bash -c "! grep -q whsec_ <<<'$body'"
check "the endpoint conforms to openapi's Webhook" conforms Webhook
call GET /admin/webhooks "" "$admin"
check "the endpoint list conforms to openapi's WebhookList" conforms WebhookList
call POST /admin/webhooks '{"url":"https://169.254.169.254/latest/meta-data/","events":["*"]}' "$admin"
check "a webhook to the metadata address is refused with 422" test "$status" = 422 -a "$(json "['errors'][0]['field']")" = url
call GET "/admin/webhooks/01KBGQ3M7V2X9C4D6F8H0J2K4M" "" "$admin"
check "an unknown endpoint is 404 webhook_not_found" test "$status" = 404 -a "$(json "['code']")" = webhook_not_found

echo "--- odd bytes and unknown routes, as API Gateway takes them"
status=$(printf '\xff\xfe' | curl -s -o "$data/body" -w '%{http_code}' --data-binary @- -H 'content-type: application/json' "$base/auth/login")
body=$(cat "$data/body")
check "a body that is not UTF-8 gets the function's own 400 problem" test "$status" = 400 -a "$(json "['code']")" = malformed_json
check "that 400 conforms to openapi's Problem" conforms Problem
status=$(curl -s -o "$data/body" -w '%{http_code}' -H $'authorization: Bearer caf\xe9' "$base/me")
body=$(cat "$data/body")
check "a header with a non-ASCII byte reaches the function (401 unauthenticated, not a gateway 500)" test "$status" = 401 -a "$(json "['code']")" = unauthenticated
call GET /no/such/route
check "an unknown route is a problem+json 404" test "$status" = 404 -a "$(json "['code']")" = route_not_found -a "$(header content-type)" = application/problem+json
check "the 404 names no binary of the workspace" bash -c "! grep -q 'get-product\|place-order\|expire-orders' <<<'$body'"
call DELETE /auth/login
check "a known path with an unknown method is a problem+json 404" test "$status" = 404 -a "$(json "['code']")" = route_not_found

invoked=$(.venv/bin/cargo-lambda lambda invoke register --data-file events/register.json --invoke-address 127.0.0.1 --invoke-port "$port" 2>&1 || true)
check "the README's cargo lambda invoke of events/register.json registers Ada" python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); assert r["statusCode"] == 201, r' <<<"$invoked"

echo "--- catalog"
check "make run seeds the demo catalog" grep -q "seeded the demo catalog (50 products, 6 pictures)" "$log"
call GET /products
check "the catalog lists 20 products by default, newest first" test "$status" = 200 -a "$(json "['items'].__len__()")" = 20
check "the product list conforms to openapi's ProductList" conforms ProductList
check "public lists are cacheable for 60 s" test "$(header cache-control)" = "public, max-age=60"
etag=$(header etag)
call GET /products "" "" "if-none-match: $etag"
check "a matching If-None-Match answers 304" test "$status" = 304
ids=()
cursor=""
while :; do
  call GET "/products?limit=7${cursor:+&cursor=$cursor}"
  while read -r id; do ids+=("$id"); done < <(python3 -c "import json,sys; [print(p['id']) for p in json.load(sys.stdin)['items']]" <<<"$body")
  cursor=$(json "['nextCursor'] or ''")
  [ -n "$cursor" ] || break
done
check "paging by 7 walks all 50 demo products once each" test "${#ids[@]}" = 50 -a "$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)" = 50
call GET "/products?q=wire%20mou"
check "searching 'wire mou' finds the Wireless Mouse" test "$(json "','.join(p['name'] for p in v['items'])")" = "Wireless Mouse"
mouse=$(json "['items'][0]['id']")
call GET "/products/$mouse"
check "a product conforms to openapi's Product" conforms Product
call GET /categories
check "categories list 5 slugs counting all 50 products" test "$(json "sum(c['productCount'] for c in v['items'])")" = 50 -a "$(json "['items'].__len__()")" = 5
check "categories conform to openapi's CategoryList" conforms CategoryList
call GET "/products?cursor=forged"
check "a forged cursor is 400 invalid_cursor" test "$status" = 400 -a "$(json "['code']")" = invalid_cursor
call PATCH "/products/$mouse" '{"priceCents": 1999}' "$admin" 'if-match: "stale"'
check "an admin edit with a stale If-Match is 412" test "$status" = 412 -a "$(json "['code']")" = version_mismatch
call GET "/admin/products/$mouse" "" "$admin"
call PATCH "/products/$mouse" '{"priceCents": 1999}' "$admin" "if-match: $(header etag)"
check "an admin edit with the current ETag is 200" test "$status" = 200 -a "$(json "['priceCents']")" = 1999
call GET "/products?q=bottle"
bottle=$(json "['items'][0]['id']")
call GET "/products/$bottle"
check "a demo product in options has its generated pictures, conforming to Product" test "$(json "len(v['images'])")" = 3 -a "$(json "sum(1 for x in v['variants'] if x['imageId'])")" = 6
check "the demo bottle conforms to openapi's Product" conforms Product
picture=$(json "['images'][0]['url']")
check "a demo picture opens, from the local S3, as a PNG" test "$(curl -s -o "$data/picture" -w '%{http_code} %{content_type}' "$picture")" = "200 image/png"
call POST "/products/$mouse/images" "{\"contentType\":\"image/png\",\"contentLength\":$(wc -c < "$data/picture"),\"alt\":\"Mouse\"}" "$admin"
check "an admin declares an image upload: 201" test "$status" = 201
check "the upload conforms to openapi's ImageUpload" conforms ImageUpload
image=$(json "['imageId']")
check "the bucket takes the presigned PUT" test "$(curl -s -o /dev/null -w '%{http_code}' -T "$data/picture" -H 'content-type: image/png' "$(json "['upload']['url']")")" = 200
call POST "/products/$mouse/images/$image/complete" "" "$admin"
check "completing attaches it" test "$status" = 200 -a "$(json "v['images'][0]['width']")" = 96
check "the product with its image conforms to Product" conforms Product
call DELETE "/products/$mouse/images/$image" "" "$admin"
check "deleting the image answers 204" test "$status" = 204
call POST /products '{"sku":"X-1","name":"X","priceCents":1,"category":"x","stock":1}' "$token"
check "a customer creating a product is 403 forbidden" test "$status" = 403 -a "$(json "['code']")" = forbidden

# place_order NAME: puts one mouse in the customer's cart and orders it; sets $order_id and $order_total.
place_order() {
  call PUT "/cart/items/$mouse" '{"quantity":1}' "$token"
  call POST /orders '{"shippingAddress":{"name":"Grace Hopper","line1":"1 Navy Way","city":"Arlington","postalCode":"22202","country":"US"},"shippingMethod":"express"}' "$token" "idempotency-key: e2e-$1"
  order_id=$(json "['id']")
  order_total=$(json "['totalCents']")
}

echo "--- cart and checkout"
call POST /discounts '{"code":"welcome10","percentOff":10}' "$admin"
check "an admin creates a discount" test "$status" = 201 -a "$(json "['code']")" = WELCOME10
check "a discount conforms to openapi's Discount" conforms Discount
call PUT "/cart/items/$mouse" '{"quantity":2}' "$token"
check "a customer puts 2 mice in the cart" test "$status" = 200 -a "$(json "['items'][0]['quantity']")" = 2
check "the cart conforms to openapi's Cart" conforms Cart
order_body='{"shippingAddress":{"name":"Grace Hopper","line1":"1 Navy Way","city":"Arlington","postalCode":"22202","country":"US"},"shippingMethod":"standard","discountCode":"WELCOME10"}'
call POST /checkout/quote "$order_body" "$token"
check "the quote prices the cart with the discount" test "$status" = 200 -a "$(json "['subtotalCents']")" = 3998 -a "$(json "['discountCents']")" = 400
check "the quote conforms to openapi's Quote" conforms Quote
quoted_total=$(json "['totalCents']")
call POST /orders "$order_body" "$token" "idempotency-key: e2e-order-1"
check "placing the order answers 201 pending_payment" test "$status" = 201 -a "$(json "['status']")" = pending_payment
check "the order conforms to openapi's Order" conforms Order
check "the order total is the quoted total" test "$(json "['totalCents']")" = "$quoted_total"
first_order=$body
call POST /orders "$order_body" "$token" "idempotency-key: e2e-order-1"
check "replaying the same key and body answers the same order" test "$status" = 201 -a "$body" = "$first_order"
call POST /orders "$order_body" "$token"
check "an order without Idempotency-Key is 400" test "$status" = 400 -a "$(json "['code']")" = idempotency_key_required
call GET /orders "" "$token"
check "the customer's orders list the one order" test "$status" = 200 -a "$(json "['items'].__len__()")" = 1
check "the order list conforms to openapi's OrderList" conforms OrderList
call GET "/products/$mouse"
check "the order took 2 mice from stock" test "$(json "['stock']")" = 178
call GET /cart "" "$token"
check "the order emptied the cart" test "$(json "['items'].__len__()")" = 0

echo "--- order lifecycle"
place_order to-expire
expiring=$order_id
expiring_placed=$(date +%s)
webhook_secret=whsec_storefront_local_development_secret
# send_webhook BODY: signs BODY the way the README shows (openssl) and posts it.
send_webhook() {
  local t sig
  t=$(date +%s)
  sig=$(printf '%s.%s' "$t" "$1" | openssl dgst -sha256 -hmac "$webhook_secret" | sed 's/^.* //')
  call POST /webhooks/payments "$1" "" "storefront-signature: t=$t,v1=$sig"
}
first_order_id=$(python3 -c "import json,sys; print(json.load(sys.stdin)['id'])" <<<"$first_order")
first_total=$(python3 -c "import json,sys; print(json.load(sys.stdin)['totalCents'])" <<<"$first_order")
event='{"id":"evt_e2e_1","type":"payment.succeeded","data":{"orderId":"'$first_order_id'","amountCents":'$first_total',"currency":"USD","paymentId":"pay_e2e_1"}}'
send_webhook "$event"
check "a correctly signed payment webhook is accepted" test "$status" = 200
call POST /webhooks/payments "$event" "" "storefront-signature: t=$(date +%s),v1=deadbeef"
check "a wrongly signed webhook is 401 invalid_signature" test "$status" = 401 -a "$(json "['code']")" = invalid_signature
call GET "/orders/$first_order_id" "" "$token"
check "the payment moved the order to paid" test "$(json "['status']")" = paid -a "$(json "['paymentId']")" = pay_e2e_1
send_webhook "$event"
check "a replayed event is acknowledged" test "$status" = 200
call PATCH "/admin/orders/$first_order_id" '{"status":"shipped","trackingNumber":"1Z999AA10123456784"}' "$admin"
check "an admin ships the paid order" test "$status" = 200 -a "$(json "['status']")" = shipped
call PATCH "/admin/orders/$first_order_id" '{"status":"delivered"}' "$admin"
check "and delivers it" test "$(json "['status']")" = delivered -a "$(json "len(v['history'])")" = 4
check "the delivered order conforms to openapi's Order" conforms Order
call GET "/admin/orders?status=delivered" "" "$admin"
check "admins list delivered orders" test "$(json "['items'][0]['id']")" = "$first_order_id"
place_order to-cancel
call POST "/orders/$order_id/cancel" "" "$token"
check "a customer cancels an unpaid order" test "$status" = 200 -a "$(json "['status']")" = cancelled
call POST "/orders/$order_id/cancel" "" "$token"
check "cancelling it again is 409 invalid_transition" test "$status" = 409 -a "$(json "['code']")" = invalid_transition
call GET "/products/$mouse"
stock_before_expiry=$(json "['stock']")
wait_for=$(( expiring_placed + 62 - $(date +%s) ))
[ "$wait_for" -gt 0 ] && { echo "  (waiting ${wait_for}s for the one-minute payment window)"; sleep "$wait_for"; }
invoked=$(.venv/bin/cargo-lambda lambda invoke expire-orders --data-file events/expire-orders.json --invoke-address 127.0.0.1 --invoke-port "$port" 2>&1 || true)
# (make run also runs expire-orders every 5 minutes, as the cloud's schedule does: a run of it
# may have cancelled the order first.)
body=$invoked
check "the expiry function, invoked as the README shows, answers its report" python3 -c 'import json,sys; assert json.loads(sys.stdin.read())["cancelled"] in (0, 1)' <<<"$invoked"
call GET "/orders/$expiring" "" "$token"
check "the expired order is cancelled by expiry" test "$(json "['status']")" = cancelled -a "$(json "v['history'][-1]['by']")" = expiry
call GET "/products/$mouse"
check "expiry put its unit back in stock" test "$(json "['stock']")" = $(( stock_before_expiry + 1 ))

echo "--- events and emails"
# The pipeline runs behind the API: stream -> publish-events -> bus -> send-notifications.
emails="$data/local/emails"
# subjects: one line per email, "<file> <To address> <Subject>", as a mail reader shows them.
subjects() {
  python3 - "$emails" <<'PY'
import email, email.policy, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.eml")):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    print(path.name, message["To"].addresses[0].addr_spec, message["Subject"])
PY
}
# body SUBJECT-PART: the plain text of the email whose subject has it.
body() {
  python3 - "$emails" "$1" <<'PY'
import email, email.policy, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.eml")):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if sys.argv[2] in message["Subject"]:
        print(message.get_body(("plain",)).get_content())
PY
}
for _ in $(seq 1 60); do subjects 2>/dev/null | grep -q "$expiring is cancelled" && break; sleep 0.5; done
subjects > "$data/subjects" 2>&1 || true
check "make run says where emails are written" grep -q "customer emails are written to $emails" "$log"
check "placing an order emails its confirmation" grep -q "Your storefront (local) order $first_order_id\$" "$data/subjects"
check "the payment, the shipment and the cancellations email the customer" bash -c "
  grep -q 'Payment received for storefront (local) order $first_order_id' '$data/subjects' &&
  grep -q 'order $first_order_id is on its way' '$data/subjects' &&
  grep -q 'order $order_id is cancelled' '$data/subjects' && grep -q 'order $expiring is cancelled' '$data/subjects'"
body "is on its way" > "$data/shipped" 2>&1 || true
check "the shipping email carries the tracking number" grep -q "Tracking number: 1Z999AA10123456784" "$data/shipped"
check "each email is one event's, once (named by the event id)" test "$(grep -c 'Payment received' "$data/subjects")" = 1

echo "--- webhook deliveries"
for _ in $(seq 1 60); do [ "$(grep -c "^verified .* order:$first_order_id\$" "$data/receiver.log")" -ge 3 ] && break; sleep 0.5; done
check "the receiver verified the first order's placed, paid and shipped deliveries" bash -c "
  grep -q '^verified order.placed .* order:$first_order_id\$' '$data/receiver.log' &&
  grep -q '^verified order.paid .* order:$first_order_id\$' '$data/receiver.log' &&
  grep -q '^verified order.shipped .* order:$first_order_id\$' '$data/receiver.log'"
check "the receiver refused no delivery" bash -c "! grep -q '^refused' '$data/receiver.log'"
call GET "/admin/webhooks/$hook_id/deliveries?status=succeeded" "" "$admin"
check "the deliveries succeeded at their first attempt" python3 -c '
import json, sys
items = json.loads(sys.stdin.read())["items"]
assert items and all(d["attempts"] == 1 and d["lastResponseStatus"] == 200 for d in items), items' <<<"$body"
check "the deliveries conform to openapi's WebhookDeliveryList" conforms WebhookDeliveryList
delivery=$(json "['items'][0]['id']")
call POST "/admin/webhooks/$hook_id/deliveries/$delivery/retry" "" "$admin"
check "a delivery sent again by hand is a second attempt" test "$status" = 200 -a "$(json "['attempts']")" = 2
check "the retried delivery conforms to openapi's WebhookDelivery" conforms WebhookDelivery
kill "$receiver" 2>/dev/null || true
receiver=""
call DELETE "/admin/webhooks/$hook_id" "" "$admin"
check "deleting the endpoint answers 204" test "$status" = 204

echo "--- logs"
python3 - "$log" <<'PY' >"$data/logcheck" 2>&1 || true
import json, sys
lines = [l for l in open(sys.argv[1], errors="replace") if l.startswith("{")]
records = [json.loads(l) for l in lines if l.strip()]
requests = [r for r in records if r.get("message") == "request"]
fields = {"requestId", "traceId", "function", "method", "path", "status", "latencyMs", "level", "timestamp"}
print("ok" if requests and all(fields <= r.keys() for r in requests) else f"missing fields in {requests[:1]}")
# One embedded-metric-format line per request, with the same request and trace ids.
metrics = {r["requestId"]: r for r in records if "_aws" in r and "Route" in r}
joined = [(r, metrics.get(r["requestId"])) for r in requests]
bad = [(r, m) for r, m in joined if not m or m["traceId"] != r["traceId"] or m["StatusClass"] != f"{r['status'] // 100}xx"]
print("metrics ok" if requests and not bad else f"no matching metric line for {bad[:1]}")
PY
check "every function logs one JSON line per request with requestId, traceId, function, method, path, status, latency" grep -qx ok "$data/logcheck"
check "every request writes one metric line (EMF) with its route, status class and the same ids" grep -qx "metrics ok" "$data/logcheck"
check "no log line holds a password" bash -c "! grep -q 'correct horse battery staple\|storefront-admin\"' '$log'"
check "no log line holds an access or refresh token or a password hash" bash -c "! grep -q -- '$token\|$refresh\|argon2id' '$log'"

echo "--- stopping it with Ctrl-C"
group=$pid
running_before=$(pgrep -g "$group" | wc -l)
stop_stack
sleep 1
check "the stack ran the functions as processes of its own" test "$running_before" -gt 3
check "Ctrl-C stops every process make run started" test -z "$(pgrep -g "$group"; pgrep -f -- "$data/local")"
check "nothing listens on the port any more" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null"

echo "--- starting it again on the same data"
start_stack
check "a second start keeps the table" grep -q "table storefront exists" "$log"
check "a second start does not re-create the admin" grep -q "admin account admin@storefront.local exists" "$log"
check "a second start does not re-seed the catalog" grep -q "catalog has products; not seeding" "$log"
call POST /auth/login '{"email":"grace@example.com","password":"correct horse battery staple"}'
check "accounts survive a restart" test "$status" = 200
stop_stack

echo "$passes passed, $failures failed"
[ "$failures" -eq 0 ]
