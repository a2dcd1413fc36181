#!/usr/bin/env bash
# Runs the README's grpcurl walkthrough, exactly as written there, against a fresh --dev server on a
# temporary SQLite database, and checks what it prints.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rc=$?; kill $pid 2>/dev/null || true; [ $rc = 0 ] || cat "$work/server.out" >&2; rm -rf "$work"' EXIT
go build -o "$work/tradeassured" ./server/cmd/tradeassured
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ADDR="127.0.0.1:$port"
"$work/tradeassured" --dev --demo=false --db "sqlite://$work/tradeassure.db" --addr "$ADDR" --log-level warn > "$work/server.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  [ -f "$work/dev-keys.json" ] && go tool grpcurl -plaintext "$ADDR" list > /dev/null 2>&1 && break
  sleep 0.2
done
cp "$work/dev-keys.json" "$work/run-keys.json"
script="$work/walkthrough.sh"
{
  echo 'set -euo pipefail'
  # The README's commands read ./dev-keys.json; run them in the server's folder.
  echo "cd '$work'"
  echo 'go() { (cd "'"$root"'" && command go "$@"); }'
  sed -n '/<!-- walkthrough:start -->/,/<!-- walkthrough:end -->/p' README.md | sed '/^<!--/d; /^```/d'
} > "$script"
out=$(bash "$script" 2>&1) || { echo "$out"; echo "walkthrough failed"; exit 1; }
echo "$out"
want=(STATE_AWAITING_PAYMENT STATE_PAID STATE_SHIPPED STATE_DELIVERED STATE_COMPLETED
  ERROR_REASON_TRADE_TERM_SHIPPING_MISMATCH '"firedDeadlines": 2' order.receipt_confirmed
  tradeassure.order.v1.OrderService grpc.health.v1.Health SERVING)
for w in "${want[@]}"; do
  grep -qF -- "$w" <<<"$out" || { echo "walkthrough output lacks: $w"; exit 1; }
done
[ "$(grep -c '^STATE_COMPLETED$' <<<"$out")" = 2 ] || { echo "want both orders completed"; exit 1; }
echo "walkthrough: 1 passed, 0 failed"
