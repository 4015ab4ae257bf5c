#!/bin/bash
# LXD 5.0 (Debian's lxd) daemon started by hand, dir storage pool, no
# networks, the local rootfs imported as image "mitonode"; unprivileged
# container mito-lxd1 (its root is uid 1000000-ish on the host).
# Adapted from ../shared/testbed/scripts/34-lxd.sh; the project owns this copy.
# (At start lxd tries to fetch an instance-types index and logs a DNS failure: harmless.)
# Idempotent; root. Teardown: ../teardown/40-containers.sh
set -euo pipefail
. "${BASH_SOURCE%/*}/../lib/container-step.sh"
L=$STATE/lxd
N=mito-lxd1
mkdir -p "$L"

if ! lxc query /1.0 >/dev/null 2>&1; then
  if ! { [ -f "$L/lxd.pid" ] && kill -0 "$(cat "$L/lxd.pid")" 2>/dev/null; }; then
    setsid /usr/bin/lxd --group lxd --logfile "$L/lxd.log" >"$L/lxd.out" 2>&1 </dev/null &
    echo $! >"$L/lxd.pid"
  fi
  # waitready alone would sit out its timeout on a daemon that already died
  lxd waitready --timeout 60 &
  w=$!
  while kill -0 "$w" 2>/dev/null; do
    if ! kill -0 "$(cat "$L/lxd.pid")" 2>/dev/null; then
      kill "$w" 2>/dev/null || true
      echo "44-lxd: lxd exited while starting; its output ($L/lxd.out):" >&2
      tail -n 25 "$L/lxd.out" >&2
      exit 1
    fi
    sleep 0.2
  done
  wait "$w" || { echo "44-lxd: lxd not ready after 60 s; tail of $L/lxd.out:" >&2; tail -n 25 "$L/lxd.out" >&2; exit 1; }
fi
if ! lxc storage show default >/dev/null 2>&1; then
  lxd init --preseed <<'EOF'
config: {}
networks: []
storage_pools:
- name: default
  driver: dir
profiles:
- name: default
  devices:
    root:
      path: /
      pool: default
      type: disk
EOF
fi
if [ "$(lxc image get-property mitonode description 2>/dev/null)" != "mitogen node $stamp" ]; then
  lxc delete -f "$N" >/dev/null 2>&1 || true
  lxc image delete mitonode >/dev/null 2>&1 || true
  tmp=$(mktemp -d)
  printf 'architecture: x86_64\ncreation_date: %s\nproperties:\n  description: mitogen node %s\n  os: busybox\n  release: test\n' \
    "$(date +%s)" "$stamp" >"$tmp/metadata.yaml"
  tar -C "$tmp" -cf "$tmp/meta.tar" metadata.yaml
  lxc image import "$tmp/meta.tar" "$STATE/rootfs-min.tar" --alias mitonode >/dev/null
  rm -rf "$tmp"
fi
# (lxc init and start print a "no network attached" notice: kept out of the log unless they fail)
if ! lxc info "$N" >/dev/null 2>&1; then
  out=$(lxc init mitonode "$N" -c raw.lxc="lxc.init.cmd=/usr/local/bin/mito-idle" 2>&1) || { echo "$out" >&2; exit 1; }
fi
if [ "$(lxc list -f csv -c s "^$N\$")" != RUNNING ]; then
  out=$(lxc start "$N" 2>&1) || { echo "$out" >&2; exit 1; }
fi
out=$(echo ok | lxc exec --mode=non-interactive "$N" -- node -e 'process.stdin.pipe(process.stdout)')
[ "$out" = ok ] || { echo "44-lxd: lxc exec failed: $out" >&2; exit 1; }
echo "44-lxd: ok in $(( ($(date +%s%N) - T0) / 1000000 )) ms ($N)"
