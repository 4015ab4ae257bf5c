#!/bin/bash
# A real Docker engine (Debian's docker.io + containerd + runc), started by
# hand (no systemd here) with all daemon networking off.
# Adapted from ../shared/testbed/scripts/32-docker.sh; the project owns this copy.
#   image      mitogen-node:test (docker import of the local rootfs: no registry)
#   container  mito-docker1         running, --network none
#   container  mito-docker-stopped  created, never started (for the "stopped" error)
# Idempotent; root. Teardown: ../teardown/40-containers.sh
set -euo pipefail
. "${BASH_SOURCE%/*}/../lib/container-step.sh"
D=$STATE/docker
IMG=mitogen-node:test
mkdir -p "$D"

if ! docker version >/dev/null 2>&1; then
  if ! { [ -f "$D/dockerd.pid" ] && kill -0 "$(cat "$D/dockerd.pid")" 2>/dev/null; }; then
    setsid /usr/sbin/dockerd --iptables=false --ip-forward=false --ip-masq=false \
      --bridge=none --pidfile "$D/dockerd.pid" >"$D/dockerd.log" 2>&1 </dev/null &
  fi
  # bounded wait for the daemon's socket to answer
  for _ in $(seq 1 150); do docker version >/dev/null 2>&1 && break; sleep 0.2; done
  docker version >/dev/null || { tail -20 "$D/dockerd.log" >&2; exit 1; }
fi

if [ "$(docker image inspect -f '{{index .Config.Labels "mitogen.stamp"}}' "$IMG" 2>/dev/null)" != "$stamp" ]; then
  docker rm -f mito-docker1 mito-docker-stopped >/dev/null 2>&1 || true
  docker import --change 'CMD ["/usr/local/bin/mito-idle"]' --change "LABEL mitogen.stamp=\"$stamp\"" \
    "$STATE/rootfs-min.tar" "$IMG" >/dev/null
fi
if [ "$(docker inspect -f '{{.State.Running}}' mito-docker1 2>/dev/null)" != true ]; then
  docker rm -f mito-docker1 >/dev/null 2>&1 || true
  docker run -d --pull never --network none --name mito-docker1 --hostname mito-docker1 "$IMG" >/dev/null
fi
docker inspect mito-docker-stopped >/dev/null 2>&1 ||
  docker create --pull never --network none --name mito-docker-stopped "$IMG" >/dev/null
out=$(echo ok | docker exec -i mito-docker1 node -e 'process.stdin.pipe(process.stdout)')
[ "$out" = ok ] || { echo "42-docker: docker exec failed: $out" >&2; exit 1; }
echo "42-docker: ok in $(( ($(date +%s%N) - T0) / 1000000 )) ms (mito-docker1)"
