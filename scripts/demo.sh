#!/usr/bin/env bash
# First command of the README: install, start the whole stack, run the demo scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
FIVELINK_WITH_BROWSER=0 bash scripts/setup.sh
uv run fivelink up
uv run fivelink demo
echo
echo "The stack keeps running. Pages: http://127.0.0.1:8000/ui/  ·  stop it: uv run fivelink down"
