#!/usr/bin/env bash
# Starts the trainer API (default 127.0.0.1:8787). Flags go to `acc serve` (--host, --port).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh python node
exec .venv/bin/acc serve --host "${ACC_HOST:-127.0.0.1}" --port "${ACC_PORT:-8787}" "$@"
