#!/usr/bin/env bash
# The date-dependent tests (slots, availability, reminders, calendar, self-booking; SQLite) with the
# app's clock set to each day of one week and to both of New York's clock-change days (tests/conftest.py
# reads TEST_NOW). 22:30 in New York is already the next day in UTC: the hour where "today" differs.
# `clock_check.sh` runs all nine instants (`make clock-check`); `clock_check.sh quick` runs the two that
# broke before (a Saturday night, the spring-forward night), as `make test` does.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
export APP_ENV=test

instants=(2027-01-16T22:30:00-05:00 2027-03-14T01:30:00-05:00)
if [ "${1:-}" != quick ]; then
  instants=(2027-01-11T22:30:00-05:00 2027-01-12T22:30:00-05:00 2027-01-13T22:30:00-05:00
            2027-01-14T22:30:00-05:00 2027-01-15T22:30:00-05:00 2027-01-16T22:30:00-05:00
            2027-01-17T22:30:00-05:00 2027-03-14T01:30:00-05:00 2027-11-07T01:30:00-04:00)
fi
tests=(tests/unit/test_slots.py tests/unit/test_reminder_timing.py tests/integration/test_availability.py
       tests/integration/test_calendar.py tests/integration/test_reminders.py tests/integration/test_self_booking.py
       tests/integration/test_portal_booking_states.py)
# Spread over the machine's cores (pytest-xdist, at most 4 workers; SQLite only, so no server each).
cores="$(nproc 2>/dev/null || echo 2)"
workers="${TEST_WORKERS:-$(( cores < 4 ? cores : 4 ))}"
xdist=(-n "$workers")
[[ "$workers" == "0" ]] && xdist=()
failed=()
for at in "${instants[@]}"; do
  printf '\n\033[1;34m==>\033[0m date-dependent tests with the clock at %s\n' "$at"
  TEST_NOW="$at" python -m pytest "${tests[@]}" -q -p no:playwright -m "not postgres" "${xdist[@]}" \
    || failed+=("$at")
done
if [ ${#failed[@]} -gt 0 ]; then
  printf '\033[1;31mdate-dependent tests failed with the clock at: %s\033[0m\n' "${failed[*]}"
  exit 1
fi
