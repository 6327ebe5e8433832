#!/usr/bin/env bash
# The local lab: Docker engine, base image, and systemd containers on a
# private network. Usage:
#   lab/lab.sh deps            install Debian packages and the Python venv
#   lab/lab.sh engine          start dockerd unless it answers already
#   lab/lab.sh image [SUITE]   build the base image (bookworm by default)
#   lab/lab.sh up              create the network and the lab containers
#   lab/lab.sh down            remove the lab containers and network
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
venv=${REDISOPS_VENV:-$top/.venv}
network=redisops-lab
subnet=172.28.61.0/24
hosts=(redisops-lab-1:172.28.61.11 redisops-lab-2:172.28.61.12 redisops-lab-3:172.28.61.13)
suite=${REDISOPS_LAB_SUITE:-bookworm}

log() { printf '[lab] %s\n' "$*"; }

deps() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v redis-sentinel >/dev/null || missing+=(redis-sentinel)
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

up() {
  local image="redisops-lab/debian:$suite" entry name ip
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
  local entry
  for entry in "${hosts[@]}"; do
    docker rm -f "${entry%%:*}" >/dev/null 2>&1 || true
  done
  docker network rm "$network" >/dev/null 2>&1 || true
  log "lab removed"
}

case "${1:-}" in
  deps) deps ;;
  engine) engine ;;
  image) "$here/build-image.sh" "${2:-$suite}" ;;
  up) up ;;
  down) down ;;
  *) sed -n '2,9p' "$0"; exit 2 ;;
esac
