#!/usr/bin/env bash
# A newcomer's tour of the /v1 billing API (docs/api.md walks through it).
#
#   export PAYCOLLECT_API_KEYS=pk_test_quickstart DATABASE_URL=sqlite:///quickstart.db
#   # no real provider: the simulators on loopback, with any test keys
#   export STRIPE_API_KEY=sk_test_quickstart STRIPE_API_BASE=http://127.0.0.1:12111
#   export GOCARDLESS_ACCESS_TOKEN=gc_test_quickstart GOCARDLESS_BASE_URL=http://127.0.0.1:12112
#   paycollect simulators &                                     # in another terminal
#   paycollect db upgrade && paycollect serve --port 8000 &     # in another terminal
#   examples/api_quickstart.sh
#
# It creates an account and a subscription, sends two call records, starts a card setup,
# runs the renewals and shows the invoice. Each POST carries an Idempotency-Key, so the
# script can be re-run after a failure without creating anything twice.
set -euo pipefail
shopt -s inherit_errexit

API="${API:-http://127.0.0.1:8000/v1}"
KEY="${PAYCOLLECT_API_KEY:-${PAYCOLLECT_API_KEYS%%,*}}"
RUN="${RUN:-$(date -u +%Y%m%d%H%M%S)}"   # makes the ids and keys of this run unique
START="${START:-$(date -u +%F)}"         # the subscription's anchor day
NEXT="$(date -u -d "$START +1 month" +%F)"

call() {  # call METHOD PATH [JSON] — prints the response body, fails on an HTTP error
  local method="$1" path="$2" body="${3:-}"
  local args=(--silent --show-error --fail-with-body -X "$method" "$API$path"
              -H "Authorization: Bearer $KEY")
  if [[ -n "$body" ]]; then
    args+=(-H "Content-Type: application/json" -d "$body")
  fi
  if [[ "$method" == POST ]]; then
    args+=(-H "Idempotency-Key: quickstart-$RUN-$method-$path")
  fi
  if ! curl "${args[@]}"; then
    echo >&2
    return 1
  fi
  echo
}

field() {  # field NAME — one top-level string field of the JSON on stdin
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

echo "== 1. an account (our id back; the business's own id works in paths too)"
account="$(call POST /accounts "{\"external_id\": \"crm-$RUN\", \"name\": \"Acme SAS\",
  \"email\": \"finance@acme.example\", \"language\": \"fr\", \"currency\": \"EUR\",
  \"billing_address\": {\"line1\": \"10 rue de la Paix\", \"city\": \"Paris\",
                        \"postal_code\": \"75002\", \"country\": \"FR\"}}")"
echo "$account"
account_id="$(field id <<<"$account")"

echo "== 2. a monthly subscription: 3 users at 12.00, 2 numbers at 5.00, from $START"
subscription="$(call POST /subscriptions "{\"account\": \"$account_id\",
  \"external_id\": \"contract-$RUN\", \"interval\": \"monthly\",
  \"user_price\": 1200, \"number_price\": 500, \"minimum_users\": 2,
  \"started_on\": \"$START\", \"users\": 3, \"numbers\": 2,
  \"outbound_per_minute\": 3, \"toll_free_per_minute\": 2}")"
echo "$subscription"
subscription_id="$(field id <<<"$subscription")"

echo "== 3. one more user from today (prorated on the next invoice)"
call POST "/subscriptions/$subscription_id/units" '{"kind": "users", "delta": 1}'

echo "== 4. call records from the telephony platform (sent twice: counted once)"
records="{\"records\": [
  {\"id\": \"cdr-$RUN-1\", \"subscription\": \"$subscription_id\", \"number\": \"+33184800000\",
   \"direction\": \"outbound\", \"destination\": \"+33612345678\",
   \"started_at\": \"${START}T09:30:00Z\", \"duration_seconds\": 754},
  {\"id\": \"cdr-$RUN-2\", \"subscription\": \"$subscription_id\", \"number\": \"+33184800000\",
   \"direction\": \"outbound\", \"destination\": \"+14155550100\",
   \"started_at\": \"${START}T10:02:00Z\", \"duration_seconds\": 61}]}"
call POST /usage "$records"
call POST /usage "$records"

echo "== 5. a card: the customer opens this URL and enters it (Stripe Checkout, setup mode)"
call POST "/accounts/$account_id/payment-method-setups" '{"type": "card"}'

echo "== 6. the renewals up to $NEXT: the invoice of $START (the coming month) and the one of"
echo "      $NEXT (the month after, the added user's prorata and the minutes of the calls)"
# One run catches up every billing date up to --as-of (a second run within 5 minutes would
# find the subscriptions still leased by the first).
paycollect renewals run --as-of "$NEXT"

echo "== 7. the invoices, the balance and the ledger"
invoices="$(call GET "/invoices?account=$account_id")"
echo "$invoices"
last_invoice="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][-1]["id"])' \
  <<<"$invoices")"
call GET "/invoices/$last_invoice"
call GET "/accounts/$account_id/balance"
call GET "/accounts/$account_id/ledger?limit=10"
echo "The customer's document: $API/invoices/$last_invoice.html (with the same bearer key)"
