#!/usr/bin/env bash
# `make run`: migrate, load demo data, start the mail catcher, the Zoom sandbox and the app.
# Ctrl-C stops everything this script started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh

APP_PORT="${APP_PORT:-3000}"
export APP_PORT APP_URL="${APP_URL:-http://localhost:$APP_PORT}"
export ZOOM_SANDBOX_PORT="${ZOOM_SANDBOX_PORT:-8765}"
export ZOOM_OAUTH_BASE_URL="${ZOOM_OAUTH_BASE_URL:-http://127.0.0.1:$ZOOM_SANDBOX_PORT}"
export ZOOM_API_BASE_URL="${ZOOM_API_BASE_URL:-$ZOOM_OAUTH_BASE_URL/v2}"
export ZOOM_REDIRECT_URI="${ZOOM_REDIRECT_URI:-$APP_URL/auth/zoom/callback}"
export ZOOM_WEBHOOK_URL="${ZOOM_WEBHOOK_URL:-http://127.0.0.1:$APP_PORT/api/zoom/webhook}"
export ZOOM_SANDBOX_STATE_FILE="${ZOOM_SANDBOX_STATE_FILE:-$ROOT/var/zoom-sandbox.json}"
export ZOOM_SANDBOX_CONTROL="${ZOOM_SANDBOX_CONTROL:-1}"
export MAIL_CATCHER_PORT="${MAIL_CATCHER_PORT:-1025}" SMTP_PORT="${SMTP_PORT:-${MAIL_CATCHER_PORT:-1025}}"
export MAIL_CATCHER_DIR="${MAIL_CATCHER_DIR:-$ROOT/var/mail}"

PIDS=()
cleanup() {  # stop every process group we started: politely, then firmly after 10 s
  trap - INT TERM EXIT
  echo; echo "Stopping…"
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  echo "Stopped."
  exit "$1"
}
trap 'cleanup 130' INT TERM
trap 'cleanup $?' EXIT

start() {  # start <log name> <command...>: in its own process group, so Ctrl-C stops its children too
  local name=$1
  shift
  setsid "$@" >"var/$name.log" 2>&1 &
  PIDS+=($!)
}

for pair in "APP_PORT:$APP_PORT" "ZOOM_SANDBOX_PORT:$ZOOM_SANDBOX_PORT" "MAIL_CATCHER_PORT:$MAIL_CATCHER_PORT"; do
  name=${pair%%:*} port=${pair##*:}
  if ! python -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
    echo "Port $port is already in use (is another 'make run' still running?). Stop it, or choose another port: $name=<port> make run"
    exit 1
  fi
done

python -m rxapp.manage migrate
python -m rxapp.manage demo-data

mkdir -p var
start mail-catcher python -m mail_catcher --port "$MAIL_CATCHER_PORT" --dir "$MAIL_CATCHER_DIR"
if [ -d zoom_sandbox ]; then
  start zoom-sandbox python -m zoom_sandbox --port "$ZOOM_SANDBOX_PORT"
fi
echo "Building and starting the app (the first start takes a minute)…"
start app reflex run --env prod --single-port --frontend-port "$APP_PORT" --backend-port "$APP_PORT"

for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/api/health" 2>/dev/null \
     && curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/login/" 2>/dev/null; then
    python -m rxapp.manage banner
    wait -n "${PIDS[@]}" 2>/dev/null || true
    echo "A process stopped unexpectedly; see var/*.log"; exit 1
  fi
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || { echo "A process failed to start:"; tail -n 30 var/*.log; exit 1; }; done
  sleep 1
done
echo "The app did not answer within 5 minutes; see var/app.log"; exit 1
