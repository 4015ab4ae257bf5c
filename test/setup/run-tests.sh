#!/usr/bin/env bash
# The whole test suite: set-up, build (the package's dist/ and runtime
# payload, which some tests load through the exports map), then ava. Prints a
# closing line "N passed, N failed" that CI reads.
set -uo pipefail
cd "$(dirname "$0")/../.."

bash test/setup/up.sh || { echo "0 passed, 1 failed"; exit 1; }
npm run -s build || { echo "0 passed, 1 failed"; exit 1; }

out=$(mktemp)
npx ava --tap "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
pass=$(grep -aE '^# pass ' "$out" | tail -1 | awk '{print $3}')
fail=$(grep -aE '^# fail ' "$out" | tail -1 | awk '{print $3}')
todo=$(grep -aE '^# todo ' "$out" | tail -1 | awk '{print $3}')
skip=$(grep -aE '^# skip ' "$out" | tail -1 | awk '{print $3}')
rm -f "$out"
pass=${pass:-0}; fail=$(( ${fail:-0} + ${todo:-0} + ${skip:-0} ))
if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi
echo "${pass} passed, ${fail} failed"
exit $(( rc != 0 || fail != 0 ))
