#!/usr/bin/env bash
# Installs whatever is missing, idempotently: `bootstrap.sh run` for the app, `bootstrap.sh scaled` for the
# app on PostgreSQL and Redis (`make run-scaled`), `bootstrap.sh test` for tests too.
# Needs only Python 3.11, Node 20 + npm and apt on the machine.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MODE="${1:-run}"
SERVERS=0  # PostgreSQL and Redis servers
[ "$MODE" = scaled ] && { MODE=run; SERVERS=1; }
[ "$MODE" = test ] && SERVERS=1
BUN_VERSION="1.4.5"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=0
apt_install() {  # apt_install <package>... : installs the ones that are missing
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "Installing Debian packages: ${missing[*]}"
  if [ $APT_UPDATED = 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
"$PYTHON" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' \
  || { echo "Python 3.11 is required (found $("$PYTHON" --version))"; exit 1; }

if [ ! -x .venv/bin/python ]; then
  say "Creating .venv"
  "$PYTHON" -m venv .venv
fi

# A stamp per requirements hash: the test set includes the run set, so it satisfies `run` too.
# constraints.txt pins every transitive package to the versions the tests passed with.
HASH="$(cat requirements.txt requirements-test.txt constraints.txt | sha256sum | cut -c1-16)"
REQS=requirements.txt
[ "$MODE" = test ] && REQS=requirements-test.txt
if [ ! -f ".venv/.installed-$HASH-test" ] && [ ! -f ".venv/.installed-$HASH-$MODE" ]; then
  say "Installing Python packages from $REQS"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$REQS" -c constraints.txt
  touch ".venv/.installed-$HASH-$MODE"
fi

# axe-core is injected into real pages by tests/e2e/test_accessibility.py (read from .tools, no network then).
AXE_VERSION="4.14.1"
axe_version() { head -c 200 .tools/node_modules/axe-core/axe.min.js 2>/dev/null | grep -o 'axe v[0-9.]*' | cut -c6-; }
if [ ! -x .tools/node_modules/.bin/bun ] || [ "$(.tools/node_modules/.bin/bun --version)" != "$BUN_VERSION" ] \
    || [ "$(axe_version)" != "$AXE_VERSION" ]; then
  say "Installing bun $BUN_VERSION and axe-core $AXE_VERSION from the npm registry into .tools/"
  mkdir -p .tools
  (cd .tools && npm install --no-audit --no-fund --silent "bun@$BUN_VERSION" "axe-core@$AXE_VERSION")
fi

if [ "$MODE" = test ]; then
  [ -x /usr/bin/chromium ] || apt_install chromium
fi
if [ "$SERVERS" = 1 ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || apt_install postgresql
  [ -x /usr/bin/redis-server ] || apt_install redis-server
fi

mkdir -p var
# shellcheck source=scripts/env.sh
source scripts/env.sh
python -m rxapp.manage ensure-key
