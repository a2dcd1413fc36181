#!/usr/bin/env bash
# with-dev-server.sh CMD [ARGS…]: starts tradeassured --dev on a temporary SQLite database and a free
# loopback port, runs CMD with ADDR (host:port), TRADEASSURE_URL (http://host:port) and KEYS (the
# dev-keys.json path) exported, then stops the server; CMD's exit status is the script's. The server log is
# shown when CMD fails. TRADEASSURED_BIN names a prebuilt server binary; otherwise one is built. The
# marketplace starts empty (--demo=false), so what a test counts is its own; DEMO=1 seeds the demo history.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pid=
cleanup() {
  local rc=$?
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  if [ $rc != 0 ]; then echo "--- tradeassured log" >&2; cat "$work/server.out" >&2 || true; fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
bin=${TRADEASSURED_BIN:-}
if [ -z "$bin" ]; then
  bin="$work/tradeassured"
  (cd "$root" && go build -o "$bin" ./server/cmd/tradeassured)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export ADDR="127.0.0.1:$port" TRADEASSURE_URL="http://127.0.0.1:$port" KEYS="$work/dev-keys.json"
demo=false
[ "${DEMO:-}" = 1 ] && demo=true
"$bin" --dev --demo="$demo" --db "sqlite://$work/tradeassure.db" --addr "$ADDR" --log-level warn --deadline-interval 200ms \
  > "$work/server.out" 2>&1 &
pid=$!
ready=
for _ in $(seq 1 300); do
  if [ -f "$KEYS" ] && curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' \
    "$TRADEASSURE_URL/grpc.health.v1.Health/Check"; then
    ready=1
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
[ -n "$ready" ] || { echo "tradeassured did not start" >&2; exit 1; }
"$@"
