#!/usr/bin/env bash
# `make e2e`: only the Playwright browser tests. K=<expression> selects tests by name (pytest -k),
# HEADED=1 shows the browser (slowed down a little so you can follow). Extra arguments go to pytest.
# On a failure the trace, screenshot and the app's and sandbox's logs are kept under test-results/.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
export APP_ENV=test RUN_JOBS="${RUN_JOBS:-1}"

args=(tests/e2e -q)
[ -n "${K:-}" ] && args+=(-k "$K")
[ -n "${HEADED:-}" ] && [ "${HEADED}" != 0 ] && args+=(--headed --slowmo 200)
exec python -m pytest "${args[@]}" "$@"
