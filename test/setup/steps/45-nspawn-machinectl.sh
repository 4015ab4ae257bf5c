#!/bin/bash
# A systemd-nspawn container registered with systemd-machined, so that
# `machinectl status mito-nspawn1` prints its "Leader: PID" (what setns with
# kind 'machinectl' reads), on a machine whose PID 1 is not systemd:
#  1. a D-Bus system bus and systemd-machined are started by hand;
#  2. nspawn starts from a cgroup named like a unit (machine.slice/NAME.scope)
#     with --keep-unit, or machined cannot tell its unit;
#  3. machinectl refuses to run unless /run/systemd/system exists (sd_booted):
#     $STATE/nspawn/bin/machinectl runs the real one in a private mount
#     namespace where it does, rather than faking it machine-wide.
# Adapted from ../shared/testbed/scripts/35-nspawn-machinectl.sh; the project owns this copy.
# Idempotent; root. Teardown: ../teardown/40-containers.sh
set -euo pipefail
. "${BASH_SOURCE%/*}/../lib/container-step.sh"
NS=$STATE/nspawn
N=mito-nspawn1
mkdir -p "$NS/bin"

bus_ok() { dbus-send --system --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetId >/dev/null 2>&1; }
if ! bus_ok; then
  rm -f /run/dbus/pid /run/dbus/system_bus_socket
  mkdir -p /run/dbus
  dbus-daemon --system --fork --print-pid >"$NS/dbus.pid"
  for _ in $(seq 1 50); do bus_ok && break; sleep 0.1; done
fi
nspawn_alive() { [ -f "$NS/$N.pid" ] && kill -0 "$(cat "$NS/$N.pid")" 2>/dev/null; }
# A machine whose processes were killed (a machine handed on after a session)
# stays registered in machined's state: drop it, with a machined we started.
if ! nspawn_alive && [ -e "/run/systemd/machines/$N" ]; then
  if [ -f "$NS/machined.pid" ] && kill -0 "$(cat "$NS/machined.pid")" 2>/dev/null; then
    pid=$(cat "$NS/machined.pid"); kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "/run/systemd/machines/$N" "/run/systemd/machines/unit:$N.scope"
fi
has_machined() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus / \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.machine1 2>/dev/null | grep -q 'boolean true'
}
if ! has_machined; then
  setsid /lib/systemd/systemd-machined >"$NS/machined.log" 2>&1 </dev/null &
  echo $! >"$NS/machined.pid"
  for _ in $(seq 1 50); do has_machined && break; sleep 0.1; done
  has_machined || { echo "45-nspawn-machinectl: systemd-machined did not come up" >&2; exit 1; }
fi

cat >"$NS/bin/machinectl.new" <<'EOF'
#!/bin/sh
# the real machinectl, in a private mount namespace where sd_booted() holds
exec unshare --mount --propagation private /bin/sh -c \
  'mount -t tmpfs -o mode=755 mt-fake-run-systemd /run/systemd && mkdir /run/systemd/system &&
   exec /usr/bin/machinectl "$@"' machinectl "$@"
EOF
chmod 755 "$NS/bin/machinectl.new"
mv "$NS/bin/machinectl.new" "$NS/bin/machinectl"

if [ "$(cat "$NS/rootfs.stamp" 2>/dev/null)" != "$stamp" ]; then
  if [ -f "$NS/$N.pid" ]; then kill "$(cat "$NS/$N.pid")" 2>/dev/null || true; fi
  for _ in $(seq 1 50); do { [ -f "$NS/$N.pid" ] && kill -0 "$(cat "$NS/$N.pid")" 2>/dev/null; } || break; sleep 0.1; done
  rm -rf "$NS/rootfs"
  cp -a "$STATE/rootfs-min" "$NS/rootfs"
  echo "$N" >"$NS/rootfs/etc/hostname"
  echo "$stamp" >"$NS/rootfs.stamp"
fi
if ! nspawn_alive; then
  cg=/sys/fs/cgroup/unified/machine.slice/$N.scope
  mkdir -p "$cg"
  setsid /bin/sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" \
    systemd-nspawn -q -D "$NS/rootfs" -M "$N" --register=yes --keep-unit \
    --private-network --console=passive --kill-signal=SIGTERM /usr/local/bin/mito-idle \
    >"$NS/$N.log" 2>&1 </dev/null &
  echo $! >"$NS/$N.pid"
  for _ in $(seq 1 100); do "$NS/bin/machinectl" show -p Leader --value "$N" >/dev/null 2>&1 && break; sleep 0.1; done
fi
leader=$("$NS/bin/machinectl" show -p Leader --value "$N") || { echo "45-nspawn-machinectl: $N did not register:" >&2; cat "$NS/$N.log" >&2; exit 1; }
out=$(echo ok | env -u NODE_EXTRA_CA_CERTS nsenter -t "$leader" -a node -e 'process.stdin.pipe(process.stdout)')
[ "$out" = ok ] || { echo "45-nspawn-machinectl: nsenter into the leader failed: $out" >&2; exit 1; }
echo "45-nspawn-machinectl: ok in $(( ($(date +%s%N) - T0) / 1000000 )) ms ($N, leader $leader; machinectl is $NS/bin/machinectl)"
