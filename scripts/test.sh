#!/usr/bin/env bash
# `make test`: unit, integration (SQLite and PostgreSQL), Zoom sandbox contract tests, then the
# Playwright end-to-end tests in a separate pytest process (their event loop clashes with anyio's).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
export APP_ENV=test RUN_JOBS="${RUN_JOBS:-1}"

status=0
python -m pytest tests --ignore=tests/e2e -q -p no:playwright "$@" || status=$?
python -m pytest tests/e2e -q "$@" || status=$?
exit $status
