#!/usr/bin/env bash
# run.sh: serves the desk against a development server, from a fresh clone. Builds the TypeScript SDK and
# the desk (installing their npm packages on first use), starts `tradeassured --dev` (SQLite in
# ./tradeassure.db with the demo history, keys in ./dev-keys.json) and the built desk, and stops both on
# Ctrl-C. ADDR (default localhost:8080) is the server's address, DESK_PORT (default 5174) the desk's.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
addr=${ADDR:-localhost:8080}
port=${DESK_PORT:-5174}
ci() { [ -d "$1/node_modules" ] || npm --prefix "$1" ci --no-audit --no-fund --loglevel=error; }
ci sdk/ts
npm --prefix sdk/ts run --silent build
ci desk
npm --prefix desk run --silent build
go build -o bin/tradeassured ./server/cmd/tradeassured
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT INT TERM
bin/tradeassured --dev --addr "$addr" &
pids+=($!)
node desk/node_modules/vite/bin/vite.js preview desk --port "$port" --strictPort --host 127.0.0.1 > /dev/null &
pids+=($!)
# The server writes dev-keys.json before it listens, so once it answers the keys are this start's (a
# dev-keys.json left by an earlier start holds keys this start revoked).
ready=
for _ in $(seq 1 150); do
  if curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{}' "http://$addr/grpc.health.v1.Health/Check" &&
    curl -sf -o /dev/null "http://127.0.0.1:$port/"; then
    ready=1
    break
  fi
  kill -0 "${pids[@]}" 2>/dev/null || break
  sleep 0.2
done
[ -n "$ready" ] || { echo "the server or the desk did not start (see above)" >&2; exit 1; }
echo
echo "The desk: http://127.0.0.1:$port/?server=http://$addr"
echo "Sign in with a key from dev-keys.json (buyer, supplier, arbiter, warehouse, operator). Ctrl-C stops both."
wait -n "${pids[@]}"
