#!/usr/bin/env bash
# The tools the fakessh tests drive through a context: rsync, scp (legacy and
# SFTP mode, so the sftp-server too) and git. Idempotent; quick when present.
set -euo pipefail
T0=$(date +%s%N)
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v git >/dev/null || need+=(git)
command -v scp >/dev/null || need+=(openssh-client)
[[ -x /usr/lib/openssh/sftp-server ]] || need+=(openssh-sftp-server)
if ((${#need[@]})); then
  [[ $(id -u) -eq 0 ]] || { echo "15-tools: need root to install ${need[*]}" >&2; exit 1; }
  ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "15-tools: rsync, git, scp, sftp-server ready in $(( ($(date +%s%N) - T0) / 1000000 )) ms"
