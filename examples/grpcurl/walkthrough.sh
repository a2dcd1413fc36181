#!/usr/bin/env bash
# A grpcurl walkthrough of the after-sales services against a development server: an order's life, a
# return refunded after the goods came back, a dispute that the supplier rejects and an arbiter rules,
# and the supplier's payout of what it earned.
#
#   go run ./server/cmd/tradeassured --dev            # in one terminal, from the clone
#   bash examples/grpcurl/walkthrough.sh              # in another
#
# ADDR (default localhost:8080) is the server, KEYS (default ./dev-keys.json) the keys file --dev wrote.
# It uses grpcurl from PATH when there is one, else the version pinned in go.mod (go tool grpcurl).
# No proto files are needed: the server has reflection.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ADDR=${ADDR:-localhost:8080}
KEYS=$(realpath "${KEYS:-dev-keys.json}")
if command -v grpcurl >/dev/null; then
  grpcurl() { command grpcurl "$@"; }
else
  grpcurl() { (cd "$root" && go tool grpcurl "$@"); }
fi
key() { jq -r ".$1.api_key" "$KEYS"; }
# call WHO METHOD JSON: calls Service/Method as a seeded principal and prints the JSON response.
call() { local who=$1 method=$2 body=$3; grpcurl -plaintext -H "Authorization: Bearer $(key "$who")" -d "$body" "$ADDR" "tradeassure.$method"; }
step() { printf '\n== %s\n' "$*"; }
# future DURATION: a time that far after the server's clock (which --dev may have moved forward).
future() { date -u -d "$(call operator admin.v1.AdminService/GetClock '{}' | jq -r .now) + $1" +%Y-%m-%dT%H:%M:%SZ; }

PRODUCT=$(jq -r '.supplier.product_ids[0]' "$KEYS")
SUPPLIER_ID=$(jq -r '.supplier.account_id' "$KEYS")
EVIDENCE='{"kind": "EVIDENCE_KIND_PRODUCT_PHOTO", "uri": "https://files.example/casing.jpg", "description": "cracked casing"}'
# draft POLICY QUANTITY: the supplier drafts an order for the demo buyer; prints its id.
draft() {
  call supplier order.v1.OrderService/CreateOrder '{"policy": "'"$1"'", "buyer_email": "buyer@acme.example", "terms": {
    "lines": [{"product_id": "'"$PRODUCT"'", "quantity": '"$2"'}], "currency": "USD",
    "shipping_fee_minor": 15000, "insurance_fee_minor": 2500,
    "shipping_address": {"recipient_name": "Acme Receiving", "phone": "+1 555 0100", "country": "US",
                         "lines": ["1 Main St"], "city": "Springfield", "postal_code": "12345"},
    "trade_term": "TRADE_TERM_FCA", "shipping_method": "SHIPPING_METHOD_AIR",
    "payment_terms": {"kind": "KIND_FULL"}, "coverage_type": "COVERAGE_TYPE_POST_DELIVERY",
    "ship_by_time": "'"$(future '14 days')"'"}}' | jq -r .order.id
}
# deliver ORDER: accept and pay (buyer), ship (supplier), record delivery (operator); prints each state.
deliver() {
  call buyer order.v1.OrderService/AcceptOrder '{"order_id": "'"$1"'"}' | jq -r .order.state
  call buyer order.v1.OrderService/PayOrder '{"order_id": "'"$1"'", "method": "PAYMENT_METHOD_CARD",
    "card_token": "tok_4242424242424242"}' | jq -r .order.state
  call supplier order.v1.OrderService/ShipOrder '{"order_id": "'"$1"'", "carrier": "DHL",
    "tracking_number": "JD0146000033'"$RANDOM"'"}' | jq -r .order.state
  call operator order.v1.OrderService/RecordDelivery '{"order_id": "'"$1"'"}' | jq -r .order.state
}

step "The services, by reflection"
grpcurl -plaintext "$ADDR" list | grep '^tradeassure'

step "An order: the supplier drafts 200 chargers (2,675.00 USD), the buyer accepts and pays, it ships and is delivered"
ORDER=$(draft POLICY_TRADE_ASSURANCE 200)
echo "order $ORDER"
deliver "$ORDER"

step "A return: the buyer returns 40 cracked chargers within 7 days of receipt (evidence required for quality problems)"
RETURN=$(call buyer returns.v1.ReturnService/CreateReturn '{"order_id": "'"$ORDER"'", "reason": "REASON_QUALITY_PROBLEM",
  "lines": [{"line_index": 0, "quantity": 40}], "description": "casings cracked", "evidence": ['"$EVIDENCE"']}' |
  jq -r '.return | "\(.id) \(.state): refund \(.refund.total.amountMinor) \(.refund.total.currency) held; supplier answers by \(.supplierAnswerDeadline)"' | tee /dev/stderr | cut -d" " -f1)
call buyer order.v1.OrderService/GetOrder '{"order_id": "'"$ORDER"'"}' | jq -r '"escrow held: \(.order.escrowHeld)"'
# The supplier answers within 1 day: it approves, to its registered return address.
call supplier returns.v1.ReturnService/ApproveReturn '{"id": "'"$RETURN"'"}' |
  jq -r '.return | "\(.state), ship back by \(.buyerShipDeadline) to \(.returnAddress.recipientName)"'
# The buyer ships within 10 days; the supplier has 30 days to confirm what arrived.
call buyer returns.v1.ReturnService/ShipReturn '{"id": "'"$RETURN"'", "carrier": "DHL", "tracking_number": "RT0001"}' |
  jq -r '.return | "\(.state), supplier confirms by \(.supplierReceiptDeadline)"'
call supplier returns.v1.ReturnService/ConfirmReturnReceipt '{"id": "'"$RETURN"'"}' |
  jq -r '.return | "\(.state): refunded \(.refundedAmount.amountMinor) \(.refundedAmount.currency) (goods \(.refund.goodsAmount.amountMinor) + freight share \(.refund.freightShare.amountMinor) + insurance share \(.refund.insuranceShare.amountMinor // 0))"'
call buyer returns.v1.ReturnService/ListReturnTimeline '{"return_id": "'"$RETURN"'"}' | jq -r '.entries[].kind'

step "A dispute: a second order arrives not as described; the buyer asks for 500.00 USD back"
ORDER2=$(draft POLICY_TRADE_ASSURANCE 100)
echo "order $ORDER2"
deliver "$ORDER2" > /dev/null
DISPUTE=$(call buyer dispute.v1.DisputeService/OpenDispute '{"order_id": "'"$ORDER2"'", "reason": "REASON_NOT_AS_DESCRIBED",
  "description": "65W chargers labelled 45W", "evidence": ['"$EVIDENCE"'],
  "requested": {"resolution": "RESOLUTION_PARTIAL_REFUND", "refund_amount": {"amount_minor": 50000, "currency": "USD"}}}' |
  jq -r '.dispute | "\(.id) \(.state) (\(.reasonClass))"' | tee /dev/stderr | cut -d" " -f1)
call buyer dispute.v1.DisputeService/GetDispute '{"id": "'"$DISPUTE"'"}' |
  jq -r '.dispute | "\(.state): supplier responds by \(.supplierResponseDeadline); buyer may escalate from \(.escalationAllowedTime)"'
# The supplier rejects within 3 days (trade assurance), with a counter-offer and evidence.
call supplier dispute.v1.DisputeService/RespondToDispute '{"id": "'"$DISPUTE"'", "decision": "DECISION_REJECT",
  "counter_offer": {"resolution": "RESOLUTION_PARTIAL_REFUND", "refund_amount": {"amount_minor": 10000, "currency": "USD"},
                    "note": "labels were a printing error; the chargers deliver 65W"},
  "evidence": [{"kind": "EVIDENCE_KIND_OTHER", "uri": "https://files.example/test-report.pdf", "description": "output test"}]}' |
  jq -r '.dispute | "\(.state), \(.offers | length) offers"'
# Trade assurance lets the buyer escalate from day 4: in --dev an operator moves the clock 3 days.
call operator admin.v1.AdminService/AdvanceClock '{"seconds": 259200}' | jq -c .
call buyer dispute.v1.DisputeService/EscalateDispute '{"id": "'"$DISPUTE"'", "note": "the supplier will not refund the difference"}' |
  jq -r .dispute.state
# The arbiter's queue is the escalated disputes; it rules by form review of the evidence.
call arbiter dispute.v1.DisputeService/ListDisputes '{"state": "STATE_ESCALATED"}' | jq -r '.disputes[].id' | grep -x "$DISPUTE"
call arbiter dispute.v1.DisputeService/RuleDispute '{"id": "'"$DISPUTE"'", "resolution": "RESOLUTION_PARTIAL_REFUND",
  "refund_amount": {"amount_minor": 35000, "currency": "USD"}, "responsibility": "RESPONSIBILITY_SUPPLIER",
  "note": "The labels misdescribe the goods; 350.00 USD compensates the relabelling."}' |
  jq -r '.dispute | "\(.state): refund \(.settlement.refundAmount.amountMinor) \(.settlement.refundAmount.currency) from \(.settlement.refundSource)"'
call supplier dispute.v1.DisputeService/GetSupplierMetrics '{"supplier_account_id": "'"$SUPPLIER_ID"'"}' |
  jq -c '.metrics | {disputeCount, sellerResponsibilityCount, escalatedCount}'

step "A payout: the buyer confirms receipt, the escrow less the platform fee is released, the supplier withdraws"
call buyer order.v1.OrderService/ConfirmReceipt '{"order_id": "'"$ORDER2"'"}' | jq -r '.order | "\(.state), refunded \(.refunded.amountMinor)"'
call supplier payout.v1.PayoutService/GetBalance '{"supplier_account_id": "'"$SUPPLIER_ID"'"}' |
  jq -r '.balance.balances[] | "available \(.available.amountMinor) \(.currency)"'
# A withdrawal needs a request id: a retry with the same id never pays twice.
WREQ="walkthrough-$(date +%s)-$RANDOM"
WITHDRAWAL=$(call supplier payout.v1.PayoutService/RequestWithdrawal '{"request_id": "'"$WREQ"'",
  "amount": {"amount_minor": 50000, "currency": "USD"}}' | jq -r .withdrawal.id)
call supplier payout.v1.PayoutService/RequestWithdrawal '{"request_id": "'"$WREQ"'",
  "amount": {"amount_minor": 50000, "currency": "USD"}}' | jq -r '"retried: \(.withdrawal.id == "'"$WITHDRAWAL"'")"'
call operator payout.v1.PayoutService/ProcessWithdrawal '{"id": "'"$WITHDRAWAL"'", "bank_reference": "WIRE-1"}' | jq -r .withdrawal.state
call operator payout.v1.PayoutService/ConfirmWithdrawal '{"id": "'"$WITHDRAWAL"'"}' | jq -r .withdrawal.state
call supplier payout.v1.PayoutService/ListStatementEntries '{"supplier_account_id": "'"$SUPPLIER_ID"'"}' |
  jq -r '.entries[] | "\(.cause.kind) \(.amount.amountMinor // .description)"'

step "Everything above is in the event feed"
call operator event.v1.EventService/ListEvents '{"page_size": 1000}' | jq -r '.events[].type' | sort | uniq -c
