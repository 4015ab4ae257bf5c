# Sourced by the container steps (41-46), after `set -euo pipefail`: T0, the
# step's start (for its closing "ok in N ms"); STATE, where the containers'
# state lives; stamp, the local rootfs's stamp (40-containers-rootfs.sh), by
# which each step knows whether its image or copy is current.
T0=$(date +%s%N)
STATE=${MT_STATE:-/var/tmp/mitogen-testbed/containers}
stamp=$(cat "$STATE/rootfs-min.stamp")
