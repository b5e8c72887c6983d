#!/usr/bin/env bash
# Second command of the README: install, lint, type-check and run every test tier
# (unit, integration, e2e, browser) against real Kafka, FerretDB and Prometheus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> ruff"
uv run ruff check .
uv run ruff format --check .
echo "==> mypy --strict (domain cores, shared package, CLI)"
uv run mypy shared/src/fivelink_shared cli/src/fivelink_cli \
  services/matcher/src/fivelink_matcher/domain \
  services/intake/src/fivelink_intake/discovery \
  services/intake/src/fivelink_intake/domain
echo "==> pytest"
uv run pytest "$@"
