#!/usr/bin/env bash
# Runs the Node example against a fresh --dev server (examples/with-dev-server.sh), once per protocol,
# and checks what it prints. The SDK (sdk/ts) and the example must be built.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${KEYS:-}" ]; then
  exec bash "$root/examples/with-dev-server.sh" bash "$0" "$@"
fi
passed=0
for transport in connect grpc-web grpc; do
  out=$(node "$root/examples/node/dist/main.js" --url "$TRADEASSURE_URL" --keys "$KEYS" --transport "$transport" 2>&1) ||
    { echo "$out"; echo "node example ($transport) failed"; exit 1; }
  echo "$out"
  for w in "DRAFT, total 1,602.00 USD" "FOB by air is refused: invalid_argument TRADE_TERM_SHIPPING_MISMATCH" \
    "accepted: AWAITING_PAYMENT" "paid 1,602.00 USD by card: payment SETTLED, order PAID" "the supplier must ship within 9d" \
    "supplier's paid orders include it: true; events: order.drafted, order.accepted, order.paid"; do
    grep -qF -- "$w" <<<"$out" || { echo "node example ($transport) output lacks: $w"; exit 1; }
  done
  passed=$((passed + 1))
done
echo "node example: $passed passed, 0 failed"
