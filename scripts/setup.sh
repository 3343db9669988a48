#!/usr/bin/env bash
# Installs every Debian package multiquote needs to build, run and test.
# Idempotent: installs only what is missing; runs `apt-get update` first
# (a fresh machine's package lists may be empty); uses sudo when not root.
set -euo pipefail

DEB_PACKAGES=(
  build-essential pkg-config meson ninja-build clang-format
  libjansson-dev libfyaml-dev libcsv-dev libcmocka-dev
)

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
