#!/usr/bin/env bash
# `make run`: migrate, load demo data, start the mail catcher, the Zoom sandbox and the app.
# `make run-scaled` (RUN_SCALED=1): the same on a throwaway PostgreSQL and Redis with two app workers.
# However it is stopped (Ctrl-C, `kill -TERM` of make, a closed terminal, make killed outright) it
# stops everything it started.
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
PORTS=("APP_PORT:$APP_PORT" "ZOOM_SANDBOX_PORT:$ZOOM_SANDBOX_PORT" "MAIL_CATCHER_PORT:$MAIL_CATCHER_PORT")
SCALED="${RUN_SCALED:-0}"
if [ "$SCALED" = 1 ]; then
  # A throwaway PostgreSQL (its data goes when the run stops) and Redis for state and live updates.
  export POSTGRES_PORT="${POSTGRES_PORT:-5433}" REDIS_PORT="${REDIS_PORT:-6380}"
  export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$POSTGRES_PORT/postgres"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0" GRANIAN_WORKERS="${APP_WORKERS:-2}"
  PORTS+=("POSTGRES_PORT:$POSTGRES_PORT" "REDIS_PORT:$REDIS_PORT")
fi

LOG_DIR="${RUN_LOG_DIR:-$ROOT/var}"
PARENT=$PPID  # make (or the shell): when it is gone, nobody is left to stop us
PIDS=()

say() { echo "$@" 2>/dev/null || true; }  # the terminal may be gone: printing must not stop the clean-up

stop_all() {  # stop every process group we started: politely, then firmly after 10 s
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}

cleanup() {
  # A second Ctrl-C, a hung-up terminal or a closed pipe must not cut the clean-up short.
  trap '' INT TERM HUP PIPE
  trap - EXIT
  set +e
  say; say "Stopping…"
  stop_all
  say "Stopped."
  exit "$1"
}
trap 'cleanup 130' INT
trap 'cleanup 143' TERM
trap 'cleanup 129' HUP
trap 'cleanup 141' PIPE
trap 'cleanup $?' EXIT

pause() {  # sleep that a signal interrupts at once (a foreground `sleep` would delay the trap)
  sleep "$1" &
  wait $! || true
}

check_parent() {  # once our parent is gone we are handed to another process: then stop
  [ "$(ps -o ppid= -p $$ | tr -d ' ')" = "$PARENT" ] || { say "make stopped; stopping what it started."; cleanup 129; }
}

start() {  # start <log name> <command...>: in its own process group, so Ctrl-C stops its children too
  local name=$1
  shift
  setsid "$@" >"$LOG_DIR/$name.log" 2>&1 &
  PIDS+=($!)
}

for pair in "${PORTS[@]}"; do
  name=${pair%%:*} port=${pair##*:}
  if ! python -c "import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', int(sys.argv[1])))" "$port" 2>/dev/null; then
    echo "Port $port is already in use (is another 'make run' still running?). Stop it, or choose another port: $name=<port> make run"
    exit 1
  fi
done

mkdir -p var "$LOG_DIR"
if [ "$SCALED" = 1 ]; then
  start postgres python -m devtools.postgres --port "$POSTGRES_PORT"
  start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$LOG_DIR"
  say "Starting PostgreSQL and Redis…"
  for _ in $(seq 1 120); do
    grep -q "PostgreSQL ready" "$LOG_DIR/postgres.log" 2>/dev/null \
      && python -c "import redis, sys; redis.Redis(port=int(sys.argv[1])).ping()" "$REDIS_PORT" 2>/dev/null && break
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || { say "PostgreSQL or Redis failed to start:"; tail -n 30 "$LOG_DIR"/postgres.log "$LOG_DIR"/redis.log; exit 1; }; done
    check_parent
    pause 0.5
  done
fi

python -m rxapp.manage demo  # migrate, then the demo practice and its week

start mail-catcher python -m mail_catcher --port "$MAIL_CATCHER_PORT" --dir "$MAIL_CATCHER_DIR"
if [ -d zoom_sandbox ]; then
  start zoom-sandbox python -m zoom_sandbox --port "$ZOOM_SANDBOX_PORT"
fi
say "Building and starting the app (the first start takes a minute)…"
start app reflex run --env prod --single-port --frontend-port "$APP_PORT" --backend-port "$APP_PORT"

for _ in $(seq 1 1200); do  # every quarter second, for 5 minutes
  if curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/api/health" 2>/dev/null \
     && curl -fsS -o /dev/null "http://127.0.0.1:$APP_PORT/login/" 2>/dev/null; then
    if [ "$SCALED" = 1 ]; then
      say
      say "  Scaled: $GRANIAN_WORKERS app workers, PostgreSQL on port $POSTGRES_PORT and Redis on port $REDIS_PORT"
      say "  (throwaway: their data goes when you stop)."
    fi
    python -m rxapp.manage banner
    while true; do  # until a signal, make going away, or one of ours stopping
      for pid in "${PIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || { say "A process stopped unexpectedly; see $LOG_DIR/*.log"; exit 1; }
      done
      check_parent
      pause 1
    done
  fi
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null || { say "A process failed to start:"; tail -n 30 "$LOG_DIR"/*.log; exit 1; }; done
  check_parent
  pause 0.25
done
say "The app did not answer within 5 minutes; see $LOG_DIR/app.log"; exit 1
