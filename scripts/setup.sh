#!/usr/bin/env bash
# Installs every Debian package multiquote needs to build, run and test.
# Idempotent: installs only what is missing; runs `apt-get update` first
# (a fresh machine's package lists may be empty); uses sudo when not root.
set -euo pipefail

DEB_PACKAGES=(
  build-essential pkg-config meson ninja-build clang-format
  libjansson-dev libfyaml-dev libcsv-dev libcmocka-dev
  libmicrohttpd-dev libsqlite3-dev sqlite3 liblz4-dev libcairo2-dev libxml2-dev libsodium-dev
  libcurl4-openssl-dev chromium curl ca-certificates
  clang libclang-rt-14-dev valgrind
  wrk
  postgresql libpq-dev nginx-light
)
# Node.js and npm run the browser tests (npm playwright-core driving Debian's
# chromium). A machine that already has node and npm keeps them.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  DEB_PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages of the API and browser tests (tests/js/package.json, locked).
if [ -f tests/js/package-lock.json ] && { [ ! -d tests/js/node_modules ] ||
   [ tests/js/package-lock.json -nt tests/js/node_modules/.package-lock.json ]; }; then
  echo "setup: installing npm packages for the API and browser tests" >&2
  (cd tests/js && npm ci --no-audit --no-fund --loglevel=error)
fi
