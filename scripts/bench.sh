#!/usr/bin/env bash
# `make bench`: every benchmarks/bench_*.py in turn; each prints its own figures and appends them to
# var/bench/results.json (started empty here; see benchmarks/results.py). BENCH_QUICK=1 runs the smaller
# set (under 3 minutes); the full set took 910 s on 2 cores. Extra arguments (e.g. --quick) go to every benchmark.
# A benchmark that fails does not stop the others: every one runs and reports, and the exit status
# is non-zero at the end when any failed (their names are listed).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source scripts/env.sh

export BENCH_RESULTS="${BENCH_RESULTS:-$ROOT/var/bench/results.json}"
mkdir -p "$(dirname "$BENCH_RESULTS")"
echo "[]" > "$BENCH_RESULTS"
started=$SECONDS
failed=()
for bench in benchmarks/bench_*.py; do
  printf '\n\033[1;34m==>\033[0m %s\n' "$bench"
  python "$bench" "$@"
  rc=$?
  if [ $rc -ne 0 ]; then
    failed+=("$bench")
    printf '\033[1;31m%s failed (exit %d)\033[0m\n' "$bench" "$rc"
  fi
done
printf '\n%s figures in %s; make bench took %d s\n' \
  "$(python -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$BENCH_RESULTS")" \
  "$BENCH_RESULTS" "$((SECONDS - started))"
if [ ${#failed[@]} -gt 0 ]; then
  printf '\033[1;31m%d benchmark(s) failed: %s\033[0m\n' "${#failed[@]}" "${failed[*]}"
  exit 1
fi
