#!/bin/bash
# The container engines the containers tests drive, in ONE apt-get call (much
# faster than one per engine). Idempotent: installs only what is missing.
#   podman buildah runc  (41)   docker.io (42)   lxc (43)   lxd (44)
#   systemd-container dbus (45)   busybox-static (40-rootfs)   kubectl: see 47
set -euo pipefail
T0=$(date +%s%N)
missing=()
for p in podman buildah runc docker.io lxc lxd systemd-container dbus busybox-static util-linux; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || { echo "40-containers-packages: need root to install ${missing[*]}" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/mitogen-ts-apt.log 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/mitogen-ts-apt.log 2>&1 ||
      { tail -20 /tmp/mitogen-ts-apt.log >&2; exit 1; }
  fi
fi
echo "40-containers-packages: ${#missing[@]} installed (${missing[*]:-none}) in $(( ($(date +%s%N) - T0) / 1000000 )) ms"
