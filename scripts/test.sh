#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh
npm ci --no-audit --no-fund
npm run build
# Unit tests first (fast), then integration tests that start real workers; one file at a time
# so workers and clients do not compete for the two cores.
node --test --test-concurrency=1 --test-timeout=600000 dist/test/unit/ dist/test/integration/ dist/test/cluster/
