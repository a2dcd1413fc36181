#!/usr/bin/env bash
# Builds the desk and drives it in headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM) against a
# fresh --dev server with the demo history (../examples/with-dev-server.sh, DEMO=1). Screenshots go to
# artifacts/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/desk"
npm run --silent build
npm run --silent build:test
DEMO=1 exec bash "$root/examples/with-dev-server.sh" node --test --test-concurrency=1 build-test/
