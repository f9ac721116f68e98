#!/usr/bin/env bash
# First README command: install, then run the whole path on local defaults and serve the API.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/kaiku demo "$@"
