#!/usr/bin/env bash
# Runs examples/grpcurl/walkthrough.sh against a fresh --dev server (examples/with-dev-server.sh) and
# checks what it prints.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${KEYS:-}" ]; then
  exec bash "$root/examples/with-dev-server.sh" bash "$0" "$@"
fi
out=$(bash "$root/examples/grpcurl/walkthrough.sh" 2>&1) || { echo "$out"; echo "grpcurl walkthrough failed"; exit 1; }
echo "$out"
want=(
  tradeassure.returns.v1.ReturnService tradeassure.dispute.v1.DisputeService tradeassure.payout.v1.PayoutService
  STATE_DELIVERED "escrow held: true" "STATE_APPROVED, ship back by" "STATE_SHIPPED, supplier confirms by"
  "STATE_REFUNDED: refunded 53500 USD" KIND_RECEIPT_CONFIRMED
  "STATE_AWAITING_RESPONSE: supplier responds by" "STATE_NEGOTIATING, 2 offers" STATE_ESCALATED
  "STATE_RULED: refund 35000 USD" '"sellerResponsibilityCount":"1"'
  "STATE_COMPLETED, refunded 35000" "available " "retried: true" STATE_PROCESSING STATE_PAID
  CAUSE_KIND_ESCROW_RELEASE CAUSE_KIND_WITHDRAWAL dispute.ruled withdrawal.requested return.refunded
)
for w in "${want[@]}"; do
  grep -qF -- "$w" <<<"$out" || { echo "grpcurl walkthrough output lacks: $w"; exit 1; }
done
echo "grpcurl walkthrough: 1 passed, 0 failed"
