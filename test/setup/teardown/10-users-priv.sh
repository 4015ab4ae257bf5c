#!/bin/bash
# Removes the test users and policies made by ../steps/10-users-priv.sh.
set -uo pipefail
rm -f /etc/sudoers.d/mitogen-test
[[ -f /etc/doas.conf ]] && grep -q 'Mitogen-port test policy' /etc/doas.conf && rm -f /etc/doas.conf
for u in mitouser1 mitouser2 mitouser3 mitouser4; do
  id "$u" >/dev/null 2>&1 && userdel -r "$u" 2>/dev/null
done
getent group mitogroup >/dev/null && groupdel mitogroup
echo "10-users-priv teardown: done"
