/** The ssh hosts that test/setup/steps/20-netns-ssh.sh brought up (state in /var/tmp). */
import { readFileSync } from 'node:fs';

export interface TestHost { name: string; addr: string; auth: 'key' | 'password' | 'kbdint'; netns: string }
export interface SshTestbed { state: string; key: string; knownHosts: string; hosts: TestHost[] }

let cached: SshTestbed | undefined;

export function sshTestbed(): SshTestbed {
  if (cached) return cached;
  const file = '/var/tmp/mitogen-testbed/ssh/hosts.json';
  try {
    return (cached = JSON.parse(readFileSync(file, 'utf8')) as SshTestbed);
  } catch (e) {
    throw new Error(`the ssh testbed is not up (${file}: ${(e as Error).message}); run \`npm test\` as root, which brings it up`);
  }
}

export function host(name: string): TestHost {
  const h = sshTestbed().hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no test host ${name} in the ssh testbed`);
  return h;
}

/** Options for key logins as mitouser1, with the testbed's known_hosts. */
export function asUser1(name: string): { hostname: string; username: string; identityFile: string; sshArgs: string[] } {
  return {
    hostname: host(name).addr,
    username: 'mitouser1',
    identityFile: '/home/mitouser1/.ssh/id_mitotest',
    sshArgs: ['-o', `UserKnownHostsFile ${sshTestbed().knownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'],
  };
}

/**
 * An address on the testbed's bridge that no host has: a connect to it gets no answer and times out.
 * Checked against hosts.json, so a larger testbed cannot quietly make the "dead host" a live one.
 */
export function deadAddress(): string {
  const { hosts } = sshTestbed();
  const addr = host('h1').addr.replace(/\.\d+$/, '.250');
  if (hosts.some((h) => h.addr === addr)) throw new Error(`${addr} belongs to a test host; pick another dead address`);
  return addr;
}
