#!/usr/bin/env bash
# Install the browser the report tests load the HTML report in: Debian's chromium.
# Idempotent: does nothing when chromium is already on PATH. Needs root (or sudo) and apt-get;
# elsewhere it says so and exits 0, and tests/test_report_browser.py skips with a clear message.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-browser: no apt-get here; install chromium yourself to run the browser tests" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "install-test-browser: not root and no sudo; the browser tests will be skipped" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || { echo "install-test-browser: apt-get update failed" >&2; exit 0; }
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null || { echo "install-test-browser: could not install chromium" >&2; exit 0; }
