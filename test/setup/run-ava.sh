#!/usr/bin/env bash
# Runs ava under a given node (the master's version) and prints "N passed, N failed".
#   run-ava.sh NODE [ava args and files...]
set -uo pipefail
node_bin=$1; shift
out=$(mktemp)
"$node_bin" node_modules/ava/entrypoints/cli.mjs --tap "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
count() { grep -aE "^# $1 " "$out" | tail -1 | awk '{print $3}'; }
pass=$(count pass); fail=$(count fail); todo=$(count todo); skip=$(count skip)
rm -f "$out"
pass=${pass:-0}; fail=$(( ${fail:-0} + ${todo:-0} + ${skip:-0} ))
if [[ $rc -ne 0 && $fail -eq 0 ]]; then fail=1; fi
echo "${pass} passed, ${fail} failed"
exit $(( rc != 0 || fail != 0 ))
