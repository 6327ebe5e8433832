#!/usr/bin/env bash
# The local lab: Docker engine, base image, and systemd containers on a
# private network. Usage:
#   lab/lab.sh deps            install Debian packages and the Python venv, then link
#   lab/lab.sh link            link the checkout as the collection redisops.sentinel
#   lab/lab.sh engine          start dockerd unless it answers already
#   lab/lab.sh image [SUITE]   build the base image (bookworm by default)
#   lab/lab.sh up              create the network and the lab containers (and turn
#                              on this machine's memory overcommit, see tune_kernel)
#   lab/lab.sh down            remove the lab containers (however many) and network,
#                              and put the overcommit setting back
# REDISOPS_LAB_HOSTS=N (default 3, at most 50) sets how many containers `up`
# creates: redisops-lab-1..N at 172.28.61.11 onwards (lab/inventory.yml
# describes the default three).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
venv=${REDISOPS_VENV:-$top/.venv}
network=redisops-lab
subnet=172.28.61.0/24
count=${REDISOPS_LAB_HOSTS:-3}
case "$count" in
  [1-9] | [1-4][0-9] | 50) ;;
  *) printf '[lab] REDISOPS_LAB_HOSTS must be a number from 1 to 50, not %s\n' "$count" >&2; exit 2 ;;
esac
hosts=()
for i in $(seq 1 "$count"); do hosts+=("redisops-lab-$i:172.28.61.$((10 + i))"); done
suite=${REDISOPS_LAB_SUITE:-bookworm}

log() { printf '[lab] %s\n' "$*"; }

deps() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
  # ansible-test sanity (tests/sanity.sh) skips its shellcheck test without it.
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  # promtool (Debian's prometheus package) runs the alert rules' unit tests;
  # the exporter the redis_exporter role runs is tested against real servers.
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v prometheus-redis-exporter >/dev/null || missing+=(prometheus-redis-exporter)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The Debian packages start redis-server/sentinel on the host; the unit
  # tests start their own processes on other ports and need none of them.
  if [ ! -x "$venv/bin/ansible-playbook" ] || ! cmp -s "$top/requirements-dev.txt" "$venv/.requirements"; then
    log "creating the Python tooling in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -r "$top/requirements-dev.txt"
    cp "$top/requirements-dev.txt" "$venv/.requirements"
  fi
  link
}

# playbooks/collections/ansible_collections/redisops/sentinel -> the checkout:
# with ANSIBLE_COLLECTIONS_PATH (Makefile, molecule) or pytest's pythonpath set
# to playbooks/collections, redisops.sentinel is the working tree itself. It is
# created here, not committed: ansible-test sanity rejects symlinks to
# directories (.gitignore lists it).
link() {
  local path=$top/playbooks/collections/ansible_collections/redisops/sentinel
  [ -L "$path" ] && return 0
  log "linking $path to the checkout"
  mkdir -p "$(dirname "$path")"
  ln -sT ../../../.. "$path"
}

engine() {
  if docker info >/dev/null 2>&1; then return 0; fi
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/redisops-dockerd.log 2>&1 &
  local i
  for i in $(seq 1 600); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  log "dockerd did not answer within 60 s; see /var/log/redisops-dockerd.log"
  exit 1
}

nameserver() {
  awk '/^nameserver/ {print $2; exit}' /etc/resolv.conf
}

wait_systemd() {
  local name=$1 state i
  for i in $(seq 1 300); do
    state=$(docker exec "$name" systemctl is-system-running 2>/dev/null || true)
    case "$state" in running|degraded) return 0 ;; esac
    sleep 0.1
  done
  log "systemd in $name did not finish booting (state: ${state:-unknown})"
  exit 1
}

# Redis in the lab containers runs on this machine's kernel, which the
# containers cannot tune (read-only /proc/sys): without memory overcommit it
# warns at every start, and the doctor reports it. The lab turns it on, as an
# operator does on a Redis host (redis_tune_host), and `down` puts the value
# it found back.
overcommit_saved=/var/tmp/redisops-lab-overcommit
tune_kernel() {
  local now
  now=$(cat /proc/sys/vm/overcommit_memory)
  [ "$now" = 1 ] && return 0
  [ -e "$overcommit_saved" ] || echo "$now" > "$overcommit_saved"
  if sysctl -q -w vm.overcommit_memory=1; then
    log "vm.overcommit_memory=1 on this machine (it was $now; lab/lab.sh down puts it back)"
  else
    log "could not set vm.overcommit_memory=1: the servers will warn at start, and the doctor with them"
  fi
}

restore_kernel() {
  [ -e "$overcommit_saved" ] || return 0
  sysctl -q -w vm.overcommit_memory="$(cat "$overcommit_saved")" && rm -f "$overcommit_saved"
}

up() {
  local image="redisops-lab/debian:$suite" entry name ip
  tune_kernel
  docker network inspect "$network" >/dev/null 2>&1 ||
    docker network create --subnet "$subnet" "$network" >/dev/null
  for entry in "${hosts[@]}"; do
    name=${entry%%:*}; ip=${entry##*:}
    if docker container inspect "$name" >/dev/null 2>&1; then
      docker start "$name" >/dev/null
    else
      docker run -d --name "$name" --hostname "$name" \
        --network "$network" --ip "$ip" --dns "$(nameserver)" \
        --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined \
        --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        --tmpfs /run --tmpfs /run/lock "$image" >/dev/null
    fi
  done
  for entry in "${hosts[@]}"; do
    name=${entry%%:*}
    wait_systemd "$name"
    # Docker points containers on user-defined networks at its embedded DNS
    # (127.0.0.11), whose NAT rules firewalld flushes: use the host's resolver.
    docker exec "$name" sh -c "printf 'nameserver %s\\n' '$(nameserver)' > /etc/resolv.conf"
  done
  log "lab up: ${hosts[*]}"
}

down() {
  local name
  # Every lab container, also those of a larger REDISOPS_LAB_HOSTS than now.
  for name in $(docker ps -a --format '{{.Names}}' | grep -E '^redisops-lab-[0-9]+$' || true); do
    docker rm -f "$name" >/dev/null 2>&1 || true
  done
  docker network rm "$network" >/dev/null 2>&1 || true
  restore_kernel
  log "lab removed"
}

case "${1:-}" in
  deps) deps ;;
  link) link ;;
  engine) engine ;;
  image) "$here/build-image.sh" "${2:-$suite}" ;;
  up) up ;;
  down) down ;;
  *) sed -n '2,13p' "$0"; exit 2 ;;
esac
