/**
 * setns: enter a running container's namespaces directly, with no engine in
 * the path. The container's leader PID comes from its tool (Mitogen's
 * lookups: `docker inspect --format={{.State.Pid}}`, `lxc-info -n` → `PID:`,
 * `lxc info` → `PID:`/`Pid:`, `machinectl status` → `Leader:`), then node runs
 * in all of that process's namespaces, under its root, as `username`.
 *
 * Mitogen calls setns(2) between fork and exec. Node has no setns, and a
 * multi-threaded process could not join a mount or user namespace anyway, so
 * the command is a small POSIX shell script run where the connection is made
 * (so it works through `via` too): it looks the PID up, then execs
 * `nsenter --all --root` (util-linux), which forks into the PID namespace as
 * Mitogen's `/bin/sh -c` does. The user switch is the first thing node does
 * inside (setns-user.ts).
 */
import { StreamError } from '../src/wire/errors.js';
import { firstStageArgv } from '../src/wire/first-stage.js';
import { shellQuote } from './shell-quote.js';
import { switchUserPrefix } from './setns-user.js';
import { toolArgv } from './tool-argv.js';
import type { Transport } from './transport.js';

export type SetnsKind = 'docker' | 'lxc' | 'lxd' | 'machinectl';

export interface SetnsOptions {
  container: string;
  kind: SetnsKind;
  /** The user to become inside, from the container's /etc/passwd (default 'root'). */
  username?: string;
  dockerPath?: string | string[];
  /** LXD's client, for kind 'lxd' (default 'lxc'). */
  lxcPath?: string | string[];
  lxcInfoPath?: string | string[];
  machinectlPath?: string | string[];
  nodePath?: string | string[];
}

/** The command that prints the leader PID (docker) or a report holding it (the others). */
function lookupArgv(o: SetnsOptions): string[] {
  switch (o.kind) {
    case 'docker': return [...toolArgv(o.dockerPath, 'docker'), 'inspect', '--format={{.State.Pid}}', o.container];
    case 'lxc': return [...toolArgv(o.lxcInfoPath, 'lxc-info'), '-n', o.container];
    case 'lxd': return [...toolArgv(o.lxcPath, 'lxc'), 'info', o.container];
    case 'machinectl': return [...toolArgv(o.machinectlPath, 'machinectl'), 'status', o.container];
    default: throw new StreamError(`setns: unsupported container kind ${JSON.stringify(o.kind)} (docker, lxc, lxd or machinectl)`);
  }
}

// $1 the lookup command (shell-quoted), $2 kind, $3 container; then node's argv.
// lxc-info says `PID: N`, machinectl `Leader: N (init)`, LXD 5 `PID: N`, older LXD `Pid: N`.
const SCRIPT = `l=$1 k=$2 c=$3; shift 3
o=$(eval "$l" 2>&1); s=$?
if [ $s -ne 0 ]; then
  if [ $s -ge 126 ]; then w='could not run it'; else w="exit status $s"; fi
  printf 'setns: looking up the leader PID of %s container %s with %s: %s:\\n%s\\n' "$k" "$c" "$l" "$w" "$o" >&2; exit 1
fi
p=
if [ "$k" = docker ]; then p=$o; else
while read -r a b _; do case $k:$a in lxc:PID:|lxd:PID:|lxd:Pid:|machinectl:Leader:) p=$b; break;; esac; done <<EOF
$o
EOF
fi
case $p in ''|0|*[!0-9]*) printf 'setns: %s container %s is not running (no leader PID from %s):\\n%s\\n' "$k" "$c" "$l" "$o" >&2; exit 1;; esac
exec nsenter --target "$p" --all --root -- "$@"`;

export const setns: Transport<SetnsOptions> = {
  method: 'setns',
  defaultName: (o) => `setns.${o.container}`,
  argv(o, common) {
    const boot = firstStageArgv(o.nodePath ?? 'node', common.remoteName);
    const e = boot.lastIndexOf('-e');
    boot[e + 1] = switchUserPrefix(o.username ?? 'root', o.container) + boot[e + 1];
    return ['/bin/sh', '-c', SCRIPT, 'setns', shellQuote(lookupArgv(o)), o.kind, o.container, ...boot];
  },
};
