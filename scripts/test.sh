#!/usr/bin/env bash
# Second README command (and what CI runs): install, check style and types (fast, before the tests), then the
# whole test suite. Arguments go to pytest (e.g. `-m unit`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
.venv/bin/python -m mypy kaiku indexer api crawler sentiment
exec .venv/bin/python -m pytest "$@"
