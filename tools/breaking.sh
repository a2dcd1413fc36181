#!/usr/bin/env bash
# Checks the schema in the work tree for breaking changes (buf.yaml: FILE rules) against a git ref
# (default main). The ref's protos are built into an image together with protovalidate's schema, which
# is printed locally because it is not committed.
set -euo pipefail
base=${1:-main}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git archive "$base" proto buf.yaml | tar -x -C "$tmp"
go run ./tools/validateproto -out "$tmp/third_party/protovalidate"
go tool buf breaking --against "$tmp"
echo "no breaking changes against $base"
