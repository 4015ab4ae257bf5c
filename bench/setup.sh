#!/usr/bin/env bash
# Installs what the benchmarks compare against: Debian's python3-mitogen (for
# Debian's /usr/bin/python3). Idempotent.
set -euo pipefail
has() { /usr/bin/python3 -I -c 'import mitogen' 2>/dev/null; }
if ! has; then
  [[ $(id -u) -eq 0 ]] || { echo "bench: python3-mitogen is missing and installing it needs root" >&2; exit 1; }
  ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-mitogen >/dev/null
fi
has
