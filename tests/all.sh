#!/usr/bin/env bash
# Every test, as `make test` runs it after `make setup`: the static checks
# and unit tests (lint, sanity, unit) run beside the molecule scenarios
# instead of before them. The scenarios spend much of their time waiting
# (systemd boots, the package mirror, Sentinel's down-after), which leaves
# the cores to the checks. The checks' output is kept apart and printed
# whole when they end; the run fails when either part failed, after both.
# Usage: tests/all.sh SCENARIO...   (the molecule scenarios, longest first)
set -uo pipefail
checks_log=$(mktemp)
export MOLECULE_REPORT
MOLECULE_REPORT=$(mktemp)
trap 'rm -f "$checks_log" "$MOLECULE_REPORT"' EXIT

start=$(date +%s)
make --no-print-directory --keep-going lint sanity unit >"$checks_log" 2>&1 &
checks=$!
tests/molecule.sh "$@"
molecule_rc=$?
wait "$checks"
checks_rc=$?

echo "[checks] lint, sanity and unit tests (run beside the scenarios):"
cat "$checks_log"
printf '[checks] %s\n' "$([ "$checks_rc" -eq 0 ] && echo passed || echo "FAILED (rc $checks_rc)")"
# The scenarios' failures and times once more, last, where a CI page that
# shows only the tail of the output has them.
cat "$MOLECULE_REPORT"
printf '[molecule] %s\n' "$([ "$molecule_rc" -eq 0 ] && echo passed || echo "FAILED (rc $molecule_rc)")"
echo "[test] all tests in $(( $(date +%s) - start )) s"
[ "$checks_rc" -eq 0 ] && [ "$molecule_rc" -eq 0 ]
