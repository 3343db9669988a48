#!/usr/bin/env bash
# `make run`: serve the web page and the JSON API on http://localhost:8080
# with the bundled carriers and the embedded SQLite database (var/).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
PORT=${PORT:-8080}
echo "multiquote: serving http://localhost:$PORT/ (Ctrl-C to stop)" >&2
mkdir -p var
exec "$BUILD/multiquote" serve --port "$PORT" --plans plans --db var/multiquote.db
