/**
 * OpenSSH's client configuration and the ssh agent, for both clients (and
 * for the ssh2 client where no ssh binary reads the config), against the
 * real sshd hosts of test/setup/steps/20-netns-ssh.sh and real ssh-agents
 * started here: aliases, Include, Match host, a two-hop ProxyJump, options
 * given explicitly winning over the file, a passphrase-protected key, the
 * agent from $SSH_AUTH_SOCK, IdentityAgent and the `agent` option, agent
 * forwarding, and the config keywords the ssh2 client does not act on
 * logged by name.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PasswordError, StreamError } from '../../src/index.js';
import type { Context, Router } from '../../src/index.js';
import { resolveSshConfig } from '../../src/ssh/ssh-config.js';
import { sshOptionArgs } from '../../transports/ssh.js';
import { collectLogs, routerFor } from '../helpers.js';
import { host, sshTestbed } from '../testbed.js';

const dir = mkdtempSync(join(os.tmpdir(), 'mt-sshcfg-'));
const config = join(dir, 'config');
const key = join(dir, 'id');
const encrypted = join(dir, 'enc');
const stranger = join(dir, 'stranger');
const PASSPHRASE = 'the key pass phrase';
const agents: { sock: string; pid: number }[] = [];

/** A real ssh-agent; `-s` returns once its socket is bound, naming its pid. */
function startAgent(name: string): string {
  const sock = join(dir, `${name}.sock`);
  const out = execFileSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8' });
  agents.push({ sock, pid: Number(/SSH_AGENT_PID=(\d+)/.exec(out)![1]) });
  return sock;
}

let fullAgent = '';
let emptyAgent = '';

test.before(() => {
  copyFileSync(sshTestbed().key, key);
  copyFileSync(`${sshTestbed().state}/client/id_ed25519.pub`, `${key}.pub`);
  copyFileSync(sshTestbed().key, encrypted);
  for (const f of [key, encrypted]) execFileSync('chmod', ['600', f]);
  // The same (authorised) key, encrypted: only its passphrase opens it.
  execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', PASSPHRASE, '-f', encrypted]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'not-authorised', '-f', stranger]);
  fullAgent = startAgent('full');
  emptyAgent = startAgent('empty');
  execFileSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: fullAgent }, stdio: 'pipe' });
  // Routers made from here on (their brokers, and the ssh they start) see this agent.
  process.env.SSH_AUTH_SOCK = fullAgent;
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(join(dir, 'conf.d', 'web.conf'), 'Host web*\n  User mitouser2\n');
  writeFileSync(config, `# aliases, Include, Match and ProxyJump for test/e2e/ssh-config.test.ts
Include ${dir}/conf.d/*.conf
Host web1
  HostName ${host('h6').addr}
  ForwardX11 yes
Host deep
  HostName ${host('h7').addr}
  ProxyJump jump1,jump2
Host jump1
  HostName ${host('h8').addr}
Host jump2
  HostName ${host('h9').addr}
  User mitouser3
Host matched
  HostName ${host('h10').addr}
Match host ${host('h10').addr}
  User mitouser3
Host enc
  HostName ${host('h11').addr}
  IdentityFile ${encrypted}
  IdentitiesOnly yes
Host agented
  HostName ${host('h12').addr}
  IdentityFile ${dir}/missing
  IdentitiesOnly no
Host agent-cfg
  HostName ${host('h12').addr}
  IdentityFile ${dir}/missing
  IdentityAgent ${emptyAgent}
Match host ${host('h6').addr}
  ServerAliveInterval 7
  ServerAliveCountMax 2
  Compression yes
  ConnectTimeout 25
Host strict-off
  StrictHostKeyChecking no
  ForwardAgent ${dir}/fwd-%h.sock
  IdentityAgent none
Host nopubkey
  HostName ${host('h6').addr}
  PubkeyAuthentication no
Host proxied
  ProxyCommand nc %h %p
Host !enc !agented !agent-cfg *
  IdentityFile ${key}
  IdentitiesOnly yes
Host *
  User mitouser1
  UserKnownHostsFile ${sshTestbed().knownHosts}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
`);
});

test.after.always(() => {
  for (const a of agents) { try { process.kill(a.pid); } catch { /* already gone */ } }
  rmSync(dir, { recursive: true, force: true });
});

const whereAmI = (ctx: Context) => ctx.call(() => ({
  hostname: require('node:os').hostname() as string,
  user: require('node:os').userInfo().username as string,
  client: process.env.SSH_CONNECTION?.split(' ')[0],
}));

/** "Accepted publickey for USER from ADDR" lines in a test host's sshd log. */
function accepted(name: string, user: string, from: string): number {
  const log = readFileSync(`${sshTestbed().state}/hosts/${name}/sshd.log`, 'utf8');
  return log.split('\n').filter((l) => l.includes(`Accepted publickey for ${user} from ${from} `)).length;
}

const clients = [
  { label: 'openssh', o: { client: 'openssh' } },
  { label: 'ssh2', o: { client: 'ssh2' } },
  // The config read by ssh-config-parser.ts, as on a host without ssh.
  { label: 'ssh2 without an ssh binary', o: { client: 'ssh2', sshPath: '/nonexistent/bin/ssh' } },
] as const;

for (const { label, o } of clients) {
  const ssh = (router: Router, opts: Parameters<Router['ssh']>[0]): Promise<Context> => router.ssh({ sshConfigFile: config, ...o, ...opts });

  test(`${label}: an alias: HostName from its block, User from an Included file, and Match host`, async (t) => {
    const router = routerFor(t);
    t.like(await whereAmI(await ssh(router, { hostname: 'web1' })), { hostname: 'h6', user: 'mitouser2', client: '10.213.0.1' });
    t.like(await whereAmI(await ssh(router, { hostname: 'matched' })), { hostname: 'h10', user: 'mitouser3' });
  });

  test(`${label}: options given explicitly win over the file`, async (t) => {
    const router = routerFor(t);
    t.like(await whereAmI(await ssh(router, { hostname: 'web1', username: 'mitouser3' })), { hostname: 'h6', user: 'mitouser3' });
  });

  test(`${label}: PubkeyAuthentication no in the file: neither the identity file nor the agent is offered`, async (t) => {
    const router = routerFor(t);
    const refused = await t.throwsAsync(ssh(router, { hostname: 'nopubkey' }), { instanceOf: PasswordError });
    t.regex(refused!.message, /Permission denied/);
  });

  test.serial(`${label}: a two-hop ProxyJump: the target is reached through jump2, jump2 through jump1, each with its own config`, async (t) => {
    const router = routerFor(t);
    const before = accepted('h9', 'mitouser3', host('h8').addr);
    const ctx = await ssh(router, { hostname: 'deep' });
    t.like(await whereAmI(ctx), { hostname: 'h7', user: 'mitouser1', client: host('h9').addr });
    // jump2 logged in as its own User, from jump1.
    t.is(accepted('h9', 'mitouser3', host('h8').addr) - before, 1);
  });

  test(`${label}: a passphrase-protected identity file: opened with the passphrase, else a PasswordError`, async (t) => {
    const router = routerFor(t);
    // No agent: it holds the same key.
    const missing = await t.throwsAsync(ssh(router, { hostname: 'enc', agent: false }), { instanceOf: PasswordError });
    if (o.client === 'ssh2') t.regex(missing!.message, new RegExp(`identity file ${encrypted} is encrypted and no passphrase was given`));
    await t.throwsAsync(ssh(router, { hostname: 'enc', agent: false, passphrase: 'not it' }), { instanceOf: PasswordError });
    t.like(await whereAmI(await ssh(router, { hostname: 'enc', agent: false, passphrase: PASSPHRASE })), { hostname: 'h11', user: 'mitouser1' });
  });

  test(`${label}: the agent: $SSH_AUTH_SOCK, IdentityAgent, and the agent option over both`, async (t) => {
    const router = routerFor(t);
    // The host's only usable key is in the agent $SSH_AUTH_SOCK names.
    t.like(await whereAmI(await ssh(router, { hostname: 'agented' })), { hostname: 'h12', user: 'mitouser1' });
    await t.throwsAsync(ssh(router, { hostname: 'agented', agent: false }), { instanceOf: PasswordError });
    await t.throwsAsync(ssh(router, { hostname: 'agented', agent: emptyAgent }), { instanceOf: PasswordError });
    // IdentityAgent names the empty agent; the option names the full one.
    await t.throwsAsync(ssh(router, { hostname: 'agent-cfg' }), { instanceOf: PasswordError });
    t.like(await whereAmI(await ssh(router, { hostname: 'agent-cfg', agent: fullAgent })), { hostname: 'h12' });
  });

  test(`${label}: IdentitiesOnly: the agent offers only the identity files' keys`, async (t) => {
    const router = routerFor(t);
    // An explicit identity file means IdentitiesOnly (unless identitiesOnly: false): the agent's other key is not offered.
    await t.throwsAsync(ssh(router, { hostname: 'agented', identityFile: stranger }), { instanceOf: PasswordError });
    t.like(await whereAmI(await ssh(router, { hostname: 'agented', identityFile: stranger, identitiesOnly: false })), { hostname: 'h12' });
  });

  test(`${label}: agentForward: the remote side reaches the agent only when asked`, async (t) => {
    const router = routerFor(t);
    const listed = (ctx: Context) => ctx.call(() => {
      const sock = process.env.SSH_AUTH_SOCK;
      if (!sock) return null;
      return require('node:child_process').execFileSync('ssh-add', ['-L'], { encoding: 'utf8' }) as string;
    });
    const pub = readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!;
    t.regex((await listed(await ssh(router, { hostname: 'agented', agentForward: true }))) ?? 'no SSH_AUTH_SOCK there', new RegExp(pub.replace(/[+/]/g, '\\$&')));
    t.is(await listed(await ssh(router, { hostname: 'agented' })), null);
  });
}

for (const { label, o } of clients.filter((c) => c.o.client === 'ssh2')) {
  // Serial: ava runs these before the concurrent tests, so the log holds only this connection's records.
  test.serial(`${label}: with debug, config keywords the ssh2 client does not act on are logged by name at debug level`, async (t) => {
    const router = routerFor(t);
    const records = collectLogs(t);
    // Not debugging: nothing is worked out, nothing said.
    await router.ssh({ sshConfigFile: config, ...o, hostname: 'web1' });
    t.is(records.filter((r) => /does not act on/.test(r.text)).length, 0);
    await router.ssh({ sshConfigFile: config, ...o, hostname: 'web1', debug: true });
    const notes = records.filter((r) => r.level === 'debug' && /does not act on/.test(r.text));
    t.is(notes.length, 1);
    t.regex(notes[0]!.text, /ssh config for web1 sets forwardx11, which the ssh2 client does not act on/);
  });
}

test('the config as resolved: ssh -G and the parser (no ssh binary) agree, and the command line wins over the file', async (t) => {
  const aliases = ['nopubkey', 'web1', 'deep', 'jump1', 'jump2', 'matched', 'enc', 'agented', 'agent-cfg', 'strict-off', 'not-in-the-file'];
  const commandLines = [['-F', config, '-o', 'ServerAliveCountMax 5'], ['-F', config, '-l', 'root', '-p', '2222', '-i', stranger, '-o', 'IdentitiesOnly no']];
  for (const alias of aliases) {
    for (const args of commandLines) {
      t.deepEqual(await resolveSshConfig(alias, args, { ssh: '/nonexistent/bin/ssh' }), await resolveSshConfig(alias, args), `${alias} ${args.join(' ')}`);
    }
  }
  const web1 = await resolveSshConfig('web1', ['-F', config]);
  t.like(web1, { hostname: host('h6').addr, user: 'mitouser2', port: 22, serverAliveInterval: 7, serverAliveCountMax: 2, compression: true, connectTimeout: 25, identitiesOnly: true });
  t.deepEqual(web1.identityFiles, [key]);
  t.deepEqual(web1.userKnownHostsFiles, [sshTestbed().knownHosts]);
  t.like(await resolveSshConfig('web1', ['-F', config, '-l', 'root', '-p', '2222', '-o', 'ServerAliveInterval 9', '-o', 'Compression no']),
    { user: 'root', port: 2222, serverAliveInterval: 9, compression: false });
  t.like(await resolveSshConfig('strict-off', ['-F', config]), { strictHostKeyChecking: 'no', forwardAgent: `${dir}/fwd-strict-off.sock`, identityAgent: 'none' });
  t.deepEqual((await resolveSshConfig('deep', ['-F', config])).proxyJump, [{ user: undefined, host: 'jump1', port: undefined }, { user: undefined, host: 'jump2', port: undefined }]);
});

test('the command line both clients get: mitogen-ts\'s keepalive and compression defaults win over the file unless given as null', async (t) => {
  const args = (o: Partial<Parameters<typeof sshOptionArgs>[0]>): string[] => sshOptionArgs({ hostname: 'web1', sshConfigFile: config, ...o });
  t.like(await resolveSshConfig('web1', args({})), { serverAliveInterval: 30, serverAliveCountMax: 10, compression: true });
  t.like(await resolveSshConfig('web1', args({ keepaliveInterval: null, keepaliveCount: null, compression: null })), { serverAliveInterval: 7, serverAliveCountMax: 2, compression: true });
  t.like(await resolveSshConfig('web1', args({ keepaliveInterval: 0, compression: false })), { serverAliveInterval: 0, compression: false });
  // Host keys: as the file says unless checkHostKeys is given.
  t.like(await resolveSshConfig('strict-off', args({})), { strictHostKeyChecking: 'no' });
  t.like(await resolveSshConfig('strict-off', args({ checkHostKeys: 'enforce' })), { strictHostKeyChecking: 'yes' });
});

test('ssh2: ProxyCommand, and a config ssh cannot read, are StreamErrors saying what is wrong', async (t) => {
  const router = routerFor(t);
  for (const sshPath of [undefined, '/nonexistent/bin/ssh']) {
    const proxied = await t.throwsAsync(router.ssh({ hostname: 'proxied', sshConfigFile: config, client: 'ssh2', sshPath }), { instanceOf: StreamError });
    t.regex(proxied!.message, /^ssh config for proxied: ProxyCommand is not supported by the ssh2 client/);
  }
  const bad = join(dir, 'bad-config');
  writeFileSync(bad, 'Hots web1\n');
  const unreadable = await t.throwsAsync(router.ssh({ hostname: 'web1', sshConfigFile: bad, client: 'ssh2' }), { instanceOf: StreamError });
  t.regex(unreadable!.message, /^ssh config for web1: .*Bad configuration option: hots/);
  const missing = await t.throwsAsync(router.ssh({ hostname: 'web1', sshConfigFile: join(dir, 'none'), client: 'ssh2', sshPath: '/nonexistent/bin/ssh' }), { instanceOf: StreamError });
  t.regex(missing!.message, /cannot read .*none/);
});

test('ssh -G printing nothing (as it does under load, its stdio gone) is asked again, then is a StreamError', async (t) => {
  // An ssh that is silent the first time it is run with given arguments, then the real one.
  const flaky = join(dir, 'flaky-ssh');
  writeFileSync(flaky, `#!/bin/sh\nf=${dir}/flaky-$(echo "$*" | md5sum | cut -c1-12)\n[ -e "$f" ] || { : > "$f"; exit 0; }\nexec ssh "$@"\n`);
  const silent = join(dir, 'silent-ssh');
  writeFileSync(silent, '#!/bin/sh\nexit 0\n');
  for (const f of [flaky, silent]) chmodSync(f, 0o755);
  const viaFlaky = await resolveSshConfig('web1', ['-F', config], { ssh: flaky });
  t.is(viaFlaky.hostname, host('h6').addr);
  const never = await t.throwsAsync(resolveSshConfig('web1', ['-F', config], { ssh: silent }), { instanceOf: StreamError });
  t.regex(never!.message, /^ssh config for web1: .*silent-ssh -G printed nothing \(3 tries\)/);
});
