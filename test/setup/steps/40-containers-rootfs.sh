#!/bin/bash
# A minimal container root filesystem holding this machine's node (and the
# libraries `ldd` names), busybox-static as /bin/sh & co, and a passwd/group
# with root, mitouser1 (1001) and mitouser2 (1002): every container the tests
# use is made from it, so none needs a registry. It holds none of the
# project's modules: whatever a test imports inside must be forwarded.
# Adapted from ../shared/testbed/scripts/30-rootfs.sh; the project owns this copy.
#   $MT_STATE/rootfs-min/  (tree)   $MT_STATE/rootfs-min.tar  (for image imports)
# Idempotent: rebuilt only when /usr/bin/node changes. Teardown: ../teardown/40-containers.sh
set -euo pipefail
T0=$(date +%s%N)
[[ $(id -u) -eq 0 ]] || { echo "40-containers-rootfs: the container testbed (steps 40-47) needs root" >&2; exit 1; }
STATE=${MT_STATE:-/var/tmp/mitogen-testbed/containers}
R=$STATE/rootfs-min
NODE=$(readlink -f "$(command -v node)")
stamp="$(stat -c '%s %Y' "$NODE") v3"
mkdir -p "$STATE"

if [ -f "$STATE/rootfs-min.stamp" ] && [ "$(cat "$STATE/rootfs-min.stamp")" = "$stamp" ] &&
   [ -f "$STATE/rootfs-min.tar" ]; then
  echo "40-containers-rootfs: up to date ($R)"; exit 0
fi
rm -rf "$R"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/tmp,proc,sys,dev,root,run,home,lib64}
chmod 1777 "$R/tmp" "$R/var/tmp"
chmod 700 "$R/root"
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do
  [ "$a" = busybox ] || ln -sf /bin/busybox "$R/bin/$a"
done
ln -sf /bin/busybox "$R/sbin/init"
# The containers' init: idles, exits 0 on TERM/INT/HUP/PWR (lxc-stop sends PWR).
mkdir -p "$R/usr/local/bin"
cat >"$R/usr/local/bin/mito-idle" <<'EOF'
#!/usr/bin/node
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGPWR']) process.on(s, () => process.exit(0));
setInterval(() => {}, 1 << 30);
EOF
chmod 755 "$R/usr/local/bin/mito-idle"
cp -a "$NODE" "$R/usr/bin/node"
for lib in $(ldd "$NODE" | grep -oE '/[^ ]+'); do
  mkdir -p "$R$(dirname "$lib")"
  cp -L "$lib" "$R$lib"
done
for lib in /lib/x86_64-linux-gnu/libnss_files.so.2; do
  [ -e "$lib" ] && cp -L "$lib" "$R$lib"
done
cat >"$R/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
mitouser1:x:1001:1001::/home/mitouser1:/bin/sh
mitouser2:x:1002:1001::/home/mitouser2:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$R/etc/group" <<'EOF'
root:x:0:
mitogroup:x:1001:mitouser2
nogroup:x:65534:
EOF
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$R/etc/nsswitch.conf"
echo '127.0.0.1 localhost' >"$R/etc/hosts"
: >"$R/etc/resolv.conf"
echo mitoct >"$R/etc/hostname"
for u in mitouser1 mitouser2; do mkdir -p "$R/home/$u"; done
chown 1001:1001 "$R/home/mitouser1"; chown 1002:1001 "$R/home/mitouser2"
env -u NODE_EXTRA_CA_CERTS chroot "$R" /usr/bin/node -e 'process.exit(0)'
tar -C "$R" -cf "$STATE/rootfs-min.tar.tmp" .
mv "$STATE/rootfs-min.tar.tmp" "$STATE/rootfs-min.tar"
echo "$stamp" >"$STATE/rootfs-min.stamp"
echo "40-containers-rootfs: built $R ($(du -sh "$R" | cut -f1)) in $(( ($(date +%s%N) - T0) / 1000000 )) ms"
