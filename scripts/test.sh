#!/usr/bin/env bash
# Second README command (and what CI runs): install, check style and types (fast, before the tests), then the
# whole test suite. Arguments go to pytest (e.g. `-m unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# The dashboard's browser tests need Debian's chromium and chromedriver (Selenium is in the test extra). Installed
# here when missing and running as root (CI); otherwise those tests skip, naming the missing binary.
if ! { [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; }; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; } \
            || echo "scripts/test.sh: could not install chromium: the dashboard's browser tests will skip" >&2
    else
        echo "scripts/test.sh: chromium/chromedriver missing and not root: the dashboard's browser tests will skip" >&2
    fi
fi
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy core crawler sentiment indexer kaiku api cli
exec .venv/bin/python -m pytest "$@"
