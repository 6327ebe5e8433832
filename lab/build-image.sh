#!/usr/bin/env bash
# Build a bare Debian base image with systemd as PID 1 for the lab and molecule.
# No registry is reachable from these machines, so the image is made with
# debootstrap and imported. Usage: lab/build-image.sh [SUITE] (bookworm|trixie)
set -euo pipefail
suite=${1:-bookworm}
image="redisops-lab/debian:${suite}"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "image $image already present"
  exit 0
fi
mirror=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '/^deb / && $3 ~ /^(bookworm|trixie)$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
root=$(mktemp -d /tmp/redisops-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
echo "debootstrap $suite from $mirror"
debootstrap --variant=minbase \
  --include=python3,systemd,systemd-sysv,dbus,iproute2,procps,sudo \
  "$suite" "$root" "$mirror" >/dev/null
# The image must not start services it will never need, nor hold a machine id
# (each container gets its own at first boot).
: > "$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"*
tar -C "$root" -c . | docker import -c 'CMD ["/lib/systemd/systemd"]' - "$image" >/dev/null
echo "built $image"
