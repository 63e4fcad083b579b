#!/usr/bin/env bash
# Start the acc dashboard on 127.0.0.1:${ACC_UI_PORT:-4321}, proxying /api/* to the trainer at
# ${ACC_TRAINER_URL:-http://127.0.0.1:8787} (prefix stripped: /api/health -> <trainer>/health).
#
#   ./run_ui.sh                      built site (installs and builds first when needed)
#   ./run_ui.sh --port 5000 --trainer http://127.0.0.1:9000
#   ./run_ui.sh --allow-host my-laptop.local   also answer requests for that host name
#   ./run_ui.sh --dev                Astro dev server with hot reload, same proxy
set -euo pipefail

usage() {
  cat <<EOF
usage: ./run_ui.sh [--port N] [--trainer URL] [--allow-host NAME]... [--dev]
  --port N           port to serve on (env ACC_UI_PORT, default 4321)
  --trainer URL      trainer that /api/* is proxied to (env ACC_TRAINER_URL, default http://127.0.0.1:8787)
  --allow-host NAME  also answer requests whose Host is NAME (repeatable; env ACC_ALLOW_HOSTS=a,b);
                     127.0.0.1, localhost and [::1] always work, other names get 403 (DNS rebinding)
  --dev              run the Astro dev server (hot reload) instead of the built site
EOF
}

port="${ACC_UI_PORT:-4321}"
trainer="${ACC_TRAINER_URL:-http://127.0.0.1:8787}"
dev=0
allow_hosts=() # passed on to serve.mjs as they are; it checks them
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; port="$2"; shift 2 ;;
    --port=*) port="${1#*=}"; shift ;;
    --trainer) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; trainer="$2"; shift 2 ;;
    --trainer=*) trainer="${1#*=}"; shift ;;
    --allow-host) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; allow_hosts+=(--allow-host "$2"); shift 2 ;;
    --allow-host=*) allow_hosts+=(--allow-host "${1#*=}"); shift ;;
    --dev) dev=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run_ui.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port > 65535)); then
  echo "run_ui.sh: port must be an integer in 0..65535, got '$port'" >&2
  exit 2
fi
if ((dev && ${#allow_hosts[@]})); then
  echo "run_ui.sh: --allow-host is for the built site's server (serve.mjs), not --dev" >&2
  exit 2
fi

cd "$(dirname "${BASH_SOURCE[0]}")"
export ASTRO_TELEMETRY_DISABLED=1
export ACC_UI_PORT="$port" ACC_TRAINER_URL="$trainer"

command -v node >/dev/null || { echo "run_ui.sh: node not found (Node 20+ is needed)" >&2; exit 1; }

# Installs npm packages and builds the site only when their inputs changed (stamps, see setup.sh).
if ((dev)); then scripts/setup.sh node; else scripts/setup.sh node dashboard; fi

if ((dev)); then
  # The dev server reads ACC_UI_PORT / ACC_TRAINER_URL in dashboard/astro.config.mjs.
  echo "run_ui.sh: Astro dev server on http://127.0.0.1:${port}/, /api/* -> ${trainer}" >&2
  cd dashboard
  exec ../node_modules/.bin/astro dev --host 127.0.0.1 --port "$port"
fi

exec node dashboard/server/serve.mjs --port "$port" --trainer "$trainer" "${allow_hosts[@]}"
