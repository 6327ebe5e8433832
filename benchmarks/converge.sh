#!/usr/bin/env bash
# Converge the 3-host lab from bare containers and print the figures:
# wall time split into install / configure / wait, then the idempotent re-run
# time and its changed count. Recreates the lab containers (make lab-down to
# remove them afterwards). Run through `make bench`, which then runs
# benchmarks/failover.py on the converged lab (failover, re-run after it and
# switchover-under-writes figures).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
runs=${BENCH_RUNS:-3}
export ANSIBLE_CALLBACK_PLUGINS="$top/benchmarks/callback_plugins"
export ANSIBLE_CALLBACKS_ENABLED=phase_timer

play() {
  local log=$1 start end
  start=$(date +%s.%N)
  ansible-playbook -i lab/inventory.yml playbooks/site.yml >"$log" 2>&1 || { tail -40 "$log"; exit 1; }
  end=$(date +%s.%N)
  echo "$start $end"
}

changed_total() {
  awk '/ changed=/ { for (i = 1; i <= NF; i++) if ($i ~ /^changed=/) { split($i, a, "="); n += a[2] } } END { print n + 0 }' "$1"
}

printf '%-5s %10s %10s %10s %10s %10s %8s\n' run bare_s install_s config_s wait_s rerun_s changed
for run in $(seq 1 "$runs"); do
  lab/lab.sh down >/dev/null
  lab/lab.sh up >/dev/null
  read -r s e < <(play /tmp/redisops-bench-converge.log)
  phases=$(grep -o 'PHASES.*' /tmp/redisops-bench-converge.log)
  read -r rs re < <(play /tmp/redisops-bench-rerun.log)
  install=$(sed -E 's/.*install=([0-9.]+)s.*/\1/' <<<"$phases")
  configure=$(sed -E 's/.*configure=([0-9.]+)s.*/\1/' <<<"$phases")
  wait=$(sed -E 's/.*wait=([0-9.]+)s.*/\1/' <<<"$phases")
  printf '%-5s %10.1f %10.1f %10.1f %10.1f %10.1f %8s\n' "$run" "$(awk -v s="$s" -v e="$e" "BEGIN {print e - s}")" "$install" "$configure" "$wait" \
    "$(awk -v s="$rs" -v e="$re" "BEGIN {print e - s}")" "$(changed_total /tmp/redisops-bench-rerun.log)"
done
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
python "$top/benchmarks/readiness.py"
