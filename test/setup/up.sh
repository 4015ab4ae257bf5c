#!/usr/bin/env bash
# Brings up what the test suite needs on this machine. Idempotent and quick
# when everything is already there. Run as root for the parts that need it
# (packages, namespaces); as another user it checks and says what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The steps start daemons (sshd, dockerd, lxd) that keep the PATH they were
# started with. `npm test` puts node_modules/.bin first, and packages install
# commands there that shadow system tools (ava's @vercel/nft installs `nft`,
# which made lxd's nftables probe panic): the steps get the system's PATH.
PATH=$(tr ':' '\n' <<<"$PATH" | grep -v '/node_modules/\.bin$' | paste -sd: -)
export PATH

need_pkgs=()
command -v unshare >/dev/null || need_pkgs+=(util-linux)
command -v python3 >/dev/null || need_pkgs+=(python3)

if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test setup: missing packages ${need_pkgs[*]} and not root to install them" >&2
    exit 1
  fi
  [[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ]] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

# Later issues add their testbed steps here (ssh hosts, users, containers):
for step in "$here"/steps/*.sh; do
  [[ -e "$step" ]] || continue
  bash "$step"
done
