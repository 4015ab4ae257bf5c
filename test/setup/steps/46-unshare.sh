#!/bin/bash
# Bare namespace "containers" made with util-linux unshare + pivot_root, no
# runtime: own PID, mount, UTS, IPC, net (lo only) and cgroup namespaces,
# root = a copy of the local rootfs, PID 1 = mito-idle, hostname = its name.
# The host PID of each one's PID 1 is in $STATE/unshare/NAME/leader.pid.
#   mito-jail1  entered by the stand-in jexec (test/fixtures/jexec): FreeBSD
#               jails cannot run on Linux
#   mito-pod1   the pod the fake Kubernetes API server (47) execs into
# Adapted from ../shared/testbed/scripts/36-unshare-setns.sh; the project owns this copy.
# Idempotent; root. Teardown: ../teardown/40-containers.sh
set -euo pipefail
. "${BASH_SOURCE%/*}/../lib/container-step.sh"

start() {  # NAME
  local name=$1 U=$STATE/unshare/$1
  mkdir -p "$U"
  alive() { [ -f "$U/leader.pid" ] && kill -0 "$(cat "$U/leader.pid")" 2>/dev/null &&
            [ "$(readlink "/proc/$(cat "$U/leader.pid")/ns/uts")" != "$(readlink /proc/self/ns/uts)" ]; }
  if alive && [ "$(cat "$U/rootfs.stamp" 2>/dev/null)" = "$stamp" ]; then return 0; fi
  if [ -f "$U/leader.pid" ] && alive; then kill -KILL "$(cat "$U/leader.pid")" 2>/dev/null || true; fi
  rm -f "$U/leader.pid"
  rm -rf "$U/rootfs"
  cp -a "$STATE/rootfs-min" "$U/rootfs"
  echo "$name" >"$U/rootfs/etc/hostname"
  echo "$stamp" >"$U/rootfs.stamp"
  # shellcheck disable=SC2016
  setsid env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    unshare --pid --mount --uts --ipc --net --cgroup --fork --propagation private \
    /bin/sh -c '
      set -e
      R=$0
      hostname "$1"
      ip link set lo up 2>/dev/null || true
      mount --bind "$R" "$R"
      mount -t proc proc "$R/proc"
      mount -t tmpfs -o mode=755,size=1m tmpfs "$R/dev"
      for d in null zero full random urandom tty; do touch "$R/dev/$d"; mount --bind "/dev/$d" "$R/dev/$d"; done
      mkdir -p "$R/dev/pts" "$R/dev/shm"
      mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
      ln -s pts/ptmx "$R/dev/ptmx"
      mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
      ln -s /proc/self/fd "$R/dev/fd"
      mkdir -p "$R/.oldroot"
      cd "$R"
      pivot_root . .oldroot
      exec /bin/busybox chroot . /bin/sh -c "umount -l /.oldroot && rmdir /.oldroot && exec /usr/local/bin/mito-idle"
    ' "$U/rootfs" "$name" >"$U/unshare.log" 2>&1 </dev/null &
  local upid=$!
  echo "$upid" >"$U/unshare.pid"
  # the namespace's PID 1 is the child `unshare --fork` made; bounded wait for its exec of node
  for _ in $(seq 1 100); do
    local kids
    kids=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null || true)
    if [ -n "$kids" ] && [ "$(readlink "/proc/${kids%% *}/exe" 2>/dev/null)" = /usr/bin/node ]; then
      echo "${kids%% *}" >"$U/leader.pid"; break
    fi
    sleep 0.05
  done
  alive || { echo "46-unshare: $name did not start:" >&2; cat "$U/unshare.log" >&2; exit 1; }
}

for name in mito-jail1 mito-pod1; do
  start "$name"
  out=$(echo ok | env -u NODE_EXTRA_CA_CERTS nsenter -t "$(cat "$STATE/unshare/$name/leader.pid")" -a node -e 'process.stdin.pipe(process.stdout)')
  [ "$out" = ok ] || { echo "46-unshare: nsenter into $name failed: $out" >&2; exit 1; }
done
echo "46-unshare: ok in $(( ($(date +%s%N) - T0) / 1000000 )) ms (mito-jail1, mito-pod1 in $STATE/unshare)"
