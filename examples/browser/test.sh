#!/usr/bin/env bash
# Builds the browser app and drives it in headless Chromium against a fresh --dev server
# (examples/with-dev-server.sh). Needs /usr/bin/chromium (Debian package chromium) or CHROMIUM; the
# screenshot goes to artifacts/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/examples/browser"
npm run --silent build
npm run --silent build:test
exec bash "$root/examples/with-dev-server.sh" node --test build-test/
