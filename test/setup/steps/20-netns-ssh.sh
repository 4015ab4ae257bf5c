#!/bin/bash
# Multi-host SSH testbed made of Linux network namespaces on a private bridge.
# Idempotent; root on Debian 12 (run by test/setup/up.sh). Teardown: ../teardown/20-netns-ssh.sh
# Adapted from ../shared/testbed/scripts/20-netns-ssh.sh; the project owns this copy.
#
#   MT_HOSTS=N   number of plain key-auth hosts h1..hN (default 100: the fan-out bench uses all; hosts already up are kept)
#   MT_STATE=DIR state directory (default /var/tmp/mitogen-testbed/ssh)
#   MT_NET=A.B.C IPv4 /24 prefix used only inside this machine (default 10.213.0)
#
# Topology: bridge mtbr0 = ${MT_NET}.1/24 in the root namespace; every host is
# namespace mt-<name> (own network + UTS namespace, hostname = <name>) with
# eth0 on the bridge and its own sshd on port 22 with its own ed25519 host key.
# The namespaces have NO default route: they reach only the bridge subnet.
#   h1..hN  ${MT_NET}.11..   pubkey auth for root and mitouser1..3 (+ password)
#   pw      ${MT_NET}.201    password auth only (PasswordAuthentication)
#   kbd     ${MT_NET}.202    keyboard-interactive (PAM) only
#   hk      ${MT_NET}.203    pubkey ok, but known_hosts holds a WRONG key for it
# Files written to $MT_STATE: client/id_ed25519 (client key), known_hosts,
# ssh_config (Host h1.. pw kbd hk), hosts.env, hosts.json.
# Needs 10-users-priv.sh first (for mitouser*).
set -euo pipefail
T0=$(date +%s%N)
N=${MT_HOSTS:-100}
STATE=${MT_STATE:-/var/tmp/mitogen-testbed/ssh}
NET=${MT_NET:-10.213.0}
BR=mtbr0

dpkg -s openssh-server >/dev/null 2>&1 && dpkg -s iproute2 >/dev/null 2>&1 ||
  { ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1 || apt-get update -qq; } && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-client iproute2 >/dev/null
id mitouser1 >/dev/null 2>&1 || { echo "run 10-users-priv.sh first" >&2; exit 1; }

mkdir -p "$STATE/client" "$STATE/authorized_keys" /run/sshd
chmod 755 "$STATE" "$STATE/authorized_keys"
[ -f "$STATE/client/id_ed25519" ] ||
  ssh-keygen -q -t ed25519 -N '' -C mitogen-testbed-client -f "$STATE/client/id_ed25519"
# one test-only key pair for everybody: root uses client/id_ed25519_root,
# each test user gets a 0600 copy in ~/.ssh/id_mitotest (multi-hop as a user)
chmod 600 "$STATE/client/id_ed25519"
cp "$STATE/client/id_ed25519" "$STATE/client/id_ed25519_root"; chmod 600 "$STATE/client/id_ed25519_root"
for u in root mitouser1 mitouser2 mitouser3; do
  cp "$STATE/client/id_ed25519.pub" "$STATE/authorized_keys/$u"
  chmod 644 "$STATE/authorized_keys/$u"
done
for u in mitouser1 mitouser2 mitouser3; do   # users get their own 0600 copy
  install -d -m 700 -o "$u" -g mitogroup "$(getent passwd "$u" | cut -d: -f6)/.ssh"
  install -m 600 -o "$u" -g mitogroup "$STATE/client/id_ed25519" \
    "$(getent passwd "$u" | cut -d: -f6)/.ssh/id_mitotest"
done

# bridge in the root namespace + guard route so nothing for $NET.0/24 can
# ever leave through eth0 if the bridge disappears
if ! ip link show "$BR" >/dev/null 2>&1; then
  ip link add "$BR" type bridge
  ip addr add "$NET.1/24" dev "$BR"
fi
ip link set "$BR" up
ip route replace unreachable "$NET.0/24" metric 4000

hosts=()   # "name addr mode"
for i in $(seq 1 "$N"); do hosts+=("h$i $NET.$((10 + i)) key"); done
hosts+=("pw $NET.201 password" "kbd $NET.202 kbdint" "hk $NET.203 key")

: >"$STATE/known_hosts.tmp"
start_host() {
  local name=$1 addr=$2 mode=$3 ns=mt-$1 d=$STATE/hosts/$1 veth=mtv-$1
  mkdir -p "$d"
  [ -f "$d/ssh_host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C "host-$name" -f "$d/ssh_host_ed25519_key"
  if [ -f "$d/sshd.pid" ] && kill -0 "$(cat "$d/sshd.pid")" 2>/dev/null &&
     ip netns pids "$ns" 2>/dev/null | grep -qx "$(cat "$d/sshd.pid")"; then
    :  # already running
  else
    ip netns del "$ns" 2>/dev/null || true
    ip link del "$veth" 2>/dev/null || true
    ip netns add "$ns"
    ip link add "$veth" type veth peer name eth0 netns "$ns"
    ip link set "$veth" master "$BR" up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    local auth
    case $mode in
      key)      auth="PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no" ;;
      password) auth="PubkeyAuthentication no
PasswordAuthentication yes
KbdInteractiveAuthentication no" ;;
      kbdint)   auth="PubkeyAuthentication no
PasswordAuthentication no
KbdInteractiveAuthentication yes" ;;
    esac
    cat >"$d/sshd_config" <<EOF
Port 22
ListenAddress 0.0.0.0
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
PermitRootLogin yes
$auth
AuthorizedKeysFile $STATE/authorized_keys/%u
UsePAM yes
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
AcceptEnv LANG LC_*
SetEnv MITO_TESTBED_HOST=$name
MaxStartups 100:30:200
MaxSessions 50
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
    rm -f "$d/sshd.pid"
    ip netns exec "$ns" unshare --uts /bin/sh -c \
      "hostname $name && exec /usr/sbin/sshd -f '$d/sshd_config' -E '$d/sshd.log'"
  fi
  # the hk host is deliberately recorded with a different (stale) key
  local pub=$d/ssh_host_ed25519_key.pub
  if [ "$name" = hk ]; then
    [ -f "$d/stale_key.pub" ] ||
      { ssh-keygen -q -t ed25519 -N '' -C stale -f "$d/stale_key"; }
    pub=$d/stale_key.pub
  fi
  echo "$addr $(cut -d' ' -f1,2 "$pub")" >>"$STATE/known_hosts.tmp"
}

for h in "${hosts[@]}"; do start_host $h; done
mv "$STATE/known_hosts.tmp" "$STATE/known_hosts"

# wait until every sshd accepts TCP connections (from the root namespace)
for h in "${hosts[@]}"; do
  set -- $h
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$2/22") 2>/dev/null && break
    sleep 0.05
  done
done

# client-side files
{
  echo "# generated by 20-netns-ssh.sh"
  for h in "${hosts[@]}"; do
    set -- $h
    cat <<EOF
Host $1
  HostName $2
EOF
  done
  cat <<EOF
Host *
  User root
  IdentityFile $STATE/client/id_ed25519_root
  IdentitiesOnly yes
  UserKnownHostsFile $STATE/known_hosts
  StrictHostKeyChecking yes
  GlobalKnownHostsFile /dev/null
  ConnectTimeout 5
  LogLevel ERROR
EOF
} >"$STATE/ssh_config"
chmod 644 "$STATE/ssh_config" "$STATE/known_hosts"
{
  echo "MT_SSH_STATE=$STATE"
  echo "MT_SSH_CONFIG=$STATE/ssh_config"
  echo "MT_SSH_KEY=$STATE/client/id_ed25519_root"
  echo "MT_SSH_KNOWN_HOSTS=$STATE/known_hosts"
  for h in "${hosts[@]}"; do set -- $h; echo "MT_HOST_$(echo "$1" | tr a-z A-Z)=$2"; done
} >"$STATE/hosts.env"
{
  printf '{"state":"%s","sshConfig":"%s","key":"%s","knownHosts":"%s","hosts":[' \
    "$STATE" "$STATE/ssh_config" "$STATE/client/id_ed25519_root" "$STATE/known_hosts"
  sep=''
  for h in "${hosts[@]}"; do
    set -- $h
    printf '%s{"name":"%s","addr":"%s","auth":"%s","netns":"mt-%s","pidFile":"%s"}' \
      "$sep" "$1" "$2" "$3" "$1" "$STATE/hosts/$1/sshd.pid"
    sep=','
  done
  echo ']}'
} >"$STATE/hosts.json"
echo "20-netns-ssh: ${#hosts[@]} hosts up in $(( ($(date +%s%N) - T0) / 1000000 )) ms; see $STATE/hosts.env"
