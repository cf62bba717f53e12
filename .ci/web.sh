#!/usr/bin/env bash
# Browser for the end-to-end tests: Debian's chromium (the tests never download a browser build of their own).
set -euo pipefail
CHROMIUM=${CASELINE_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  echo "chromium: $("$CHROMIUM" --version 2>/dev/null || echo present) at $CHROMIUM"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "chromium is missing at $CHROMIUM and cannot be installed here (needs root and apt-get)." >&2
  echo "Install Debian's chromium package, or point CASELINE_CHROMIUM at a chromium binary." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "chromium: $("$CHROMIUM" --version) installed"
