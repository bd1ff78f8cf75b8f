#!/usr/bin/env bash
# `make bench`: every benchmarks/bench_*.py in turn; each prints its own figures. Extra arguments
# (e.g. --quick) are passed to every benchmark.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh

for bench in benchmarks/bench_*.py; do
  printf '\n\033[1;34m==>\033[0m %s\n' "$bench"
  python "$bench" "$@"
done
