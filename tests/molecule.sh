#!/usr/bin/env bash
# Run molecule scenarios, MOLECULE_JOBS at a time (default 2).
# Usage: tests/molecule.sh SCENARIO...   (longest first: each free slot
# takes the next one)
#
# The scenarios share nothing but the Docker engine: each has its own
# containers, network and subnet. Much of a scenario's time is waiting (on
# systemd boots, the package mirror, Sentinel's down-after, replication),
# so two at a time on two cores takes far less than one after the other.
# Each scenario's output is kept apart and printed whole when it ends, with
# its time; the run fails when any scenario failed, after all have run.
set -uo pipefail
slots=${MOLECULE_JOBS:-2}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

run_one() {
  local scenario=$1 start rc
  start=$(date +%s)
  molecule test -s "$scenario" >"$logs/$scenario.log" 2>&1
  rc=$?
  {
    flock 9
    cat "$logs/$scenario.log"
    printf '[molecule] %s: %s in %d s\n' "$scenario" "$([ "$rc" -eq 0 ] && echo passed || echo "FAILED (rc $rc)")" \
      "$(( $(date +%s) - start ))" | tee -a "$logs/summary"
    [ "$rc" -eq 0 ] && echo "$scenario: passed" >>"$logs/summary.plain"
  } 9>"$logs/.print"
}

start=$(date +%s)
for scenario in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$slots" ]; do
    wait -n
  done
  run_one "$scenario" &
done
wait
# A failed scenario's errors again at the very end, where a CI page that
# shows only the tail of the output still has them (tests/all.sh prints
# them once more after the checks' output: MOLECULE_REPORT names the file).
report() {
  for scenario in "$@"; do
    grep -q "^$scenario: passed" "$logs/summary.plain" 2>/dev/null && continue
    echo "[molecule] $scenario: the failures (whole output above):"
    grep -n -E -A 25 'fatal: |failed: \[|FAILED!|ERROR!|UNREACHABLE!|CRITICAL|Idempotence test failed|AssertionError' "$logs/$scenario.log" | head -n 150
  done
  echo "[molecule] summary ($slots at a time, $(( $(date +%s) - start )) s in all):"
  cat "$logs/summary"
}
report "$@" | tee "${MOLECULE_REPORT:-/dev/null}"
! grep -q FAILED "$logs/summary"
