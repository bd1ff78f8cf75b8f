#!/usr/bin/env bash
# `make test`: unit, integration (SQLite and PostgreSQL) and Zoom sandbox contract tests, the date-dependent
# tests again with the clock on a Saturday night and a clock-change night (scripts/clock_check.sh quick;
# `make clock-check` tries every day of a week), and the Playwright end-to-end tests in separate pytest
# processes (their event loop clashes with anyio's).
# The first process spreads its tests over one worker more than the machine has cores (pytest-xdist, at
# most 4; TEST_WORKERS=N to choose, 0 for one process): each worker has its own SQLite files and PostgreSQL
# server. The tests wait on databases, sockets and subprocesses a third of the time: on 2 cores, 2 workers
# kept the CPUs 67% busy and took 346 s, 3 workers 86% and 269 s, 4 workers 94% and 261 s.
# The browser tests that start apps of their own (`make run` stopped six ways, `make run-scaled`, going
# live, Redis: marked own_stack in tests/e2e/conftest.py) wait on start-ups more than they compute: they
# run beside the first process (SEPARATE_E2E=1 runs them with the other browser tests instead). The
# browser tests of the shared app stack run last, in one process (E2E_WORKERS=N: N processes, each with
# its own stack; for a machine with cores to spare, as on 2 cores they are CPU-bound).
# TEST_PARALLEL=1 runs all the browser tests beside the first process. A browser test process is stopped
# after 30 minutes (a hung browser call must not hold CI until its own limit).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
export APP_ENV=test RUN_JOBS="${RUN_JOBS:-1}"

status=0
cores="$(nproc 2>/dev/null || echo 2)"
workers="${TEST_WORKERS:-$(( cores < 3 ? cores + 1 : 4 ))}"  # each runs its own PostgreSQL server
xdist=(-n "$workers")
[[ "$workers" == "0" ]] && xdist=()
e2e_xdist=()
[[ "${E2E_WORKERS:-0}" -gt 1 ]] && e2e_xdist=(-n "$E2E_WORKERS" --dist loadfile)
mkdir -p var
# Where the time goes: each phase's seconds, and pytest's 20 slowest tests of each process.
phase() { printf '\033[1;34m==>\033[0m %s: %ss\n' "$1" "$2"; }
beside=()  # the browser tests that run beside the first process: all, those with stacks of their own, none
if [[ "${TEST_PARALLEL:-0}" == "1" ]]; then
  beside=(tests/e2e "${e2e_xdist[@]}")
elif [[ "${SEPARATE_E2E:-0}" != "1" ]]; then
  beside=(tests/e2e -m own_stack)
fi

if [[ ${#beside[@]} -gt 0 ]]; then
  e2e_log="var/e2e-output.txt"
  (started=$SECONDS; timeout 1800 python -m pytest "${beside[@]}" -q --durations=10 "$@"; rc=$?
   phase "browser tests beside them (${beside[*]})" $((SECONDS - started)); exit $rc) > "$e2e_log" 2>&1 &
  e2e_pid=$!
  trap 'kill "$e2e_pid" 2>/dev/null' INT TERM
fi
# The unit and date-dependent tests keep their temporary files (SQLite copies, each worker's PostgreSQL
# server) in memory when the machine has a tmpfs with room: a CREATE DATABASE from the template took 190 ms
# on this machine's disk and 20 ms there, and the first process 186 s instead of 247 s (alone, 3 workers).
# TEST_TMPDIR=<folder> chooses the folder; TEST_TMPDIR= (empty) keeps the system's.
shm_free_kb="$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')"
if [[ -z "${TEST_TMPDIR+set}" && -w /dev/shm ]] && (( ${shm_free_kb:-0} > 2 * 1024 * 1024 )); then
  TEST_TMPDIR="/dev/shm/rxapp-tests-$(id -u)"
fi
in_memory=()  # the browser tests (their app, Chromium) keep the system's
if [[ -n "${TEST_TMPDIR:-}" ]]; then
  mkdir -p "$TEST_TMPDIR" && chmod 755 "$TEST_TMPDIR"  # the postgres user reaches its servers' folders in it
  in_memory=(env TMPDIR="$TEST_TMPDIR")
fi
started=$SECONDS
"${in_memory[@]}" python -m pytest tests --ignore=tests/e2e -q -p no:playwright --durations=20 "${xdist[@]}" "$@" || status=$?
phase "unit, integration and sandbox tests" $((SECONDS - started))
if [[ ${#beside[@]} -gt 0 ]]; then
  printf '\n\033[1;34m==>\033[0m %s\n' "the browser tests that ran beside them (also in $e2e_log):"
  wait "$e2e_pid" || status=$?
  cat "$e2e_log"
fi
started=$SECONDS
[[ $# -eq 0 ]] && { "${in_memory[@]}" bash scripts/clock_check.sh quick || status=$?; }
phase "date-dependent tests at two clock instants" $((SECONDS - started))
if [[ "${TEST_PARALLEL:-0}" != "1" ]]; then
  started=$SECONDS
  shared=(tests/e2e)
  [[ "${SEPARATE_E2E:-0}" != "1" ]] && shared+=(-m "not own_stack")
  timeout 1800 python -m pytest "${shared[@]}" -q --durations=20 "${e2e_xdist[@]}" "$@" || status=$?
  phase "Playwright end-to-end tests (${shared[*]})" $((SECONDS - started))
fi
exit $status
