#!/usr/bin/env bash
# `make run`: serve quotes. The HTTP server and web page are the quote
# server's work (docs/README: roadmap); until `multiquote serve` exists this
# shows the bundled carriers and a comparison for a sample shopper.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
bin="$BUILD/multiquote"
if "$bin" help 2>/dev/null | grep -q '^  serve'; then
  exec "$bin" serve --port 8080
fi
echo "multiquote: no HTTP server in this build yet; showing the command-line comparison." >&2
"$bin" carriers
echo
"$bin" quote examples/oh-single-driver.json
