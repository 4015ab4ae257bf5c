#!/usr/bin/env bash
# Installs what the benchmarks compare against, as Debian packages: python3-mitogen
# (for Debian's /usr/bin/python3, not a pyenv or venv python), and for the fan-out
# section pssh (parallel-ssh) and ansible-core. Idempotent: does nothing when all are there.
set -euo pipefail
has_mitogen() { /usr/bin/python3 -I -c 'import mitogen' 2>/dev/null; }
has_all() { has_mitogen && command -v parallel-ssh >/dev/null && command -v ansible >/dev/null; }
has_all && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "missing; as root: apt-get install -y python3-mitogen pssh ansible-core" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(python3-mitogen pssh ansible-core)
# Stale or missing package lists: update once and try again.
apt-get install -y -qq "${pkgs[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${pkgs[@]}" >/dev/null; }
has_mitogen || { echo "python3-mitogen installed, but /usr/bin/python3 cannot import mitogen" >&2; exit 1; }
has_all || { echo "pssh or ansible-core installed, but parallel-ssh or ansible is not on PATH" >&2; exit 1; }
