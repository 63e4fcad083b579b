#!/usr/bin/env bash
# Sets up whatever is missing (venv, npm packages, built dashboard, Chromium) and runs every check:
# lint (ruff, eslint), types, the generated-code check, and the whole pytest suite (unit, API, end-to-end).
# Extra arguments go to pytest, e.g. ./test.sh tests/unit -x
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh python node dashboard chromium

echo "== ruff" && .venv/bin/ruff check acc tests bench && .venv/bin/ruff format --check acc tests bench
echo "== mypy" && .venv/bin/mypy
echo "== codegen" && .venv/bin/acc codegen --check
echo "== tsc" && npm run --silent check
echo "== eslint" && npm run --silent lint
echo "== vitest" && npm run --silent test
echo "== pytest"
exec .venv/bin/python -m pytest "$@"
