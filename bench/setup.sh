#!/usr/bin/env bash
# Installs what the benchmarks compare against: Debian's python3-mitogen, for
# Debian's /usr/bin/python3 (not a pyenv or venv python). Idempotent: does
# nothing when Mitogen already imports.
set -euo pipefail
has() { /usr/bin/python3 -I -c 'import mitogen' 2>/dev/null; }
has && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "python3-mitogen is missing; as root: apt-get install -y python3-mitogen" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Stale or missing package lists: update once and try again.
apt-get install -y -qq python3-mitogen >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3-mitogen >/dev/null; }
has || { echo "python3-mitogen installed, but /usr/bin/python3 cannot import mitogen" >&2; exit 1; }
