#!/usr/bin/env bash
# Sets up whatever is missing, then runs the trainer API and the dashboard.
#   ./run.sh          one process, one port: `acc serve` answers the API and the built dashboard
#                     at http://127.0.0.1:$ACC_PORT/ (as an installed wheel does); Ctrl+C stops it
#   ./run.sh --dev    two processes in this terminal, as for work on the dashboard: the trainer API
#                     and the dashboard's own server on $ACC_UI_PORT (serve.mjs, proxying /api/* to
#                     the trainer); Ctrl+C stops both. For hot reload, run ./run_trainer.sh and
#                     ./run_ui.sh --dev in two terminals.
#   ./run.sh --tmux   the same two, each in its own tmux pane (session "acc")
# Ports: ACC_PORT (trainer, 8787) and ACC_UI_PORT (dashboard in --dev and --tmux, 4321).
set -euo pipefail
cd "$(dirname "$0")"
export ACC_PORT=${ACC_PORT:-8787} ACC_UI_PORT=${ACC_UI_PORT:-4321}
export ACC_TRAINER_URL=${ACC_TRAINER_URL:-http://127.0.0.1:$ACC_PORT}
TRAINER_URL="http://127.0.0.1:$ACC_PORT/health"
UI_URL="http://127.0.0.1:$ACC_UI_PORT/"

case "${1:-}" in
  "")
    scripts/setup.sh
    exec ./run_trainer.sh ;;  # acc serve: the API, and the dashboard setup.sh built
  --dev) ;;
  --tmux)
    command -v tmux >/dev/null || { echo "run.sh: --tmux needs tmux (apt-get install tmux)" >&2; exit 2; }
    scripts/setup.sh
    tmux new-session -d -s acc -n acc "./run_trainer.sh"
    tmux split-window -h -t acc "./run_ui.sh"
    echo "acc is starting in tmux session 'acc': trainer $TRAINER_URL, dashboard $UI_URL"
    if [[ -t 1 ]]; then exec tmux attach -t acc; fi
    echo "attach with: tmux attach -t acc"
    exit 0 ;;
  *) echo "run.sh: unknown option '$1'; allowed: --dev, --tmux" >&2; exit 2 ;;
esac

scripts/setup.sh

pids=()
stop_all() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "acc stopped."
}
trap stop_all INT TERM EXIT

# Each half gets its own process group so that stopping it ends its children (node, uvicorn) too.
setsid ./run_trainer.sh & pids+=($!)
setsid ./run_ui.sh & pids+=($!)

wait_for() {  # url, name
  for _ in $(seq 1 600); do
    if .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; then
      return 0
    fi
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "run.sh: the $2 exited before answering" >&2; exit 1; }
    done
    sleep 0.1
  done
  echo "run.sh: the $2 did not answer at $1 within 60 s" >&2; exit 1
}
wait_for "$TRAINER_URL" "trainer"
wait_for "$UI_URL" "dashboard"
echo
echo "  trainer API  $TRAINER_URL"
echo "  dashboard    $UI_URL"
echo
echo "Press Ctrl+C to stop both."
wait -n "${pids[@]}" || true
