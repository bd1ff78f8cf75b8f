#!/usr/bin/env bash
# `make test`: unit, integration (SQLite and PostgreSQL) and Zoom sandbox contract tests, the date-dependent
# tests again with the clock on a Saturday night and a clock-change night (scripts/clock_check.sh quick;
# `make clock-check` tries every day of a week), then the Playwright end-to-end tests in a separate pytest
# process (their event loop clashes with anyio's).
# The first process spreads its tests over one worker more than the machine has cores (pytest-xdist, at
# most 4; TEST_WORKERS=N to choose, 0 for one process): each worker has its own SQLite files and PostgreSQL
# server. The tests wait on databases, sockets and subprocesses a third of the time: on 2 cores, 2 workers
# kept the CPUs 67% busy and took 346 s, 3 workers 86% and 269 s, 4 workers 94% and 261 s.
# TEST_PARALLEL=1 runs the two processes at the same time (quicker on a machine with spare cores;
# on 2 cores the load makes the slowest browser checks, e.g. make run-scaled's shutdown, time out).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
export APP_ENV=test RUN_JOBS="${RUN_JOBS:-1}"

status=0
cores="$(nproc 2>/dev/null || echo 2)"
workers="${TEST_WORKERS:-$(( cores < 3 ? cores + 1 : 4 ))}"  # each runs its own PostgreSQL server
xdist=(-n "$workers")
# E2E_WORKERS=N runs the browser tests in N processes, each with its own app stack (tests/e2e/conftest.py),
# a test file staying in one; their builds take turns (stack.frontend_build_lock). Not the default: on
# 2 cores they are CPU-bound (two processes took 627 s, one 632 s) and the load slows the connection
# check and the make run checks past their limits. For a machine with cores to spare.
e2e_xdist=()
[[ "${E2E_WORKERS:-0}" -gt 1 ]] && e2e_xdist=(-n "$E2E_WORKERS" --dist loadfile)
[[ "$workers" == "0" ]] && xdist=()
# Where the time goes: each phase's seconds, and pytest's 20 slowest tests of each process.
phase() { printf '\033[1;34m==>\033[0m %s: %ss\n' "$1" "$2"; }
if [[ "${TEST_PARALLEL:-0}" != "1" ]]; then
  started=$SECONDS
  python -m pytest tests --ignore=tests/e2e -q -p no:playwright --durations=20 "${xdist[@]}" "$@" || status=$?
  phase "unit, integration and sandbox tests" $((SECONDS - started)); started=$SECONDS
  [[ $# -eq 0 ]] && { bash scripts/clock_check.sh quick || status=$?; }
  phase "date-dependent tests at two clock instants" $((SECONDS - started)); started=$SECONDS
  python -m pytest tests/e2e -q --durations=20 "${e2e_xdist[@]}" "$@" || status=$?
  phase "Playwright end-to-end tests" $((SECONDS - started))
  exit $status
fi

mkdir -p var
e2e_log="var/e2e-output.txt"
python -m pytest tests/e2e -q "${e2e_xdist[@]}" "$@" > "$e2e_log" 2>&1 &
e2e_pid=$!
trap 'kill "$e2e_pid" 2>/dev/null' INT TERM
python -m pytest tests --ignore=tests/e2e -q -p no:playwright "${xdist[@]}" "$@" || status=$?
[[ $# -eq 0 ]] && { bash scripts/clock_check.sh quick || status=$?; }
printf '\n\033[1;34m==>\033[0m Playwright end-to-end tests (output below once they finish)\n'
wait "$e2e_pid" || status=$?
cat "$e2e_log"
exit $status
