/**
 * Containers and namespaces, against real engines that
 * test/setup/steps/40..47 bring up from a local rootfs holding only node
 * (none of the project's modules: what a call imports inside is forwarded):
 * docker (mito-docker1, and the image mitogen-node:test), podman
 * (mito-podman1), buildah (mito-buildah1), LXC (mito-lxc1), LXD
 * (mito-lxd1, unprivileged), systemd-nspawn registered with machined
 * (mito-nspawn1), namespace containers made with unshare (mito-jail1,
 * mito-pod1), the real kubectl against a fake API server (pod mito-pod1),
 * and FreeBSD's jexec through a stand-in (test/fixtures/jexec) that enters
 * mito-jail1, since jails cannot run on Linux.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { EofError, StreamError } from '../../src/index.js';
import type { Context, Router } from '../../src/index.js';
import { jail } from '../../transports/jail.js';
import { kubectl } from '../../transports/kubectl.js';
import { firstStageArgv } from '../../src/wire/first-stage.js';
import { fixturesDir, routerFor, waitUntil } from '../helpers.js';
import { sshTestbed, host } from '../testbed.js';

const STATE = '/var/tmp/mitogen-testbed/containers';
const kubectlArgs = ['--kubeconfig', `${STATE}/kube/kubeconfig`];
const machinectlPath = `${STATE}/nspawn/bin/machinectl`;
const jexecPath = `${fixturesDir}jexec`;

/** Where a call runs: enough to tell a container from the host. */
const where = (ctx: Context) => ctx.call((project: string) => {
  const fs = require('node:fs');
  return {
    hostname: require('node:os').hostname() as string,
    uid: process.getuid!(),
    home: process.env.HOME,
    dockerenv: fs.existsSync('/.dockerenv') as boolean,
    containerenv: fs.existsSync('/run/.containerenv') as boolean,
    // The premise of forwarding: the project's files are not in there.
    seesProject: fs.existsSync(project) as boolean,
  };
}, fixturesDir);

/** A bare ESM package, imported by an ESM module the call imports by a path relative to this file. */
const importsEsmPackage = (ctx: Context) => ctx.call(async () => (await import('../fixtures/forwarding/esm/uses-pkg.js')).result as string);
const ESM_RESULT = 'fwd-pkg says hello (esm) [esm]';

async function notFound(t: Parameters<typeof routerFor>[0], connecting: Promise<Context>, name: string, toolSays: RegExp): Promise<void> {
  const err = await t.throwsAsync(connecting, { instanceOf: EofError });
  t.true(err!.message.includes(`(${name}: `), err!.message);
  t.regex(err!.message, toolSays);
}

const hostHostname = (await import('node:os')).hostname();
const projectHere = (ctx: Context) => where(ctx).then((w) => w.seesProject);

// ------------------------------------------------------------------ docker

test('docker: runs in the container as username, and an ESM package is forwarded in', async (t) => {
  const router = routerFor(t);
  const ctx = await router.docker({ container: 'mito-docker1', username: 'mitouser1' });
  t.is(ctx.name, 'docker.mito-docker1');
  t.like(await where(ctx), { hostname: 'mito-docker1', uid: 1001, dockerenv: true, seesProject: false });
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  t.is(await ctx.call(async () => (await import('../fixtures/forwarding/esm/main.js')).answer), 42);
});

test('docker: image starts a temporary container (run --rm) that is gone after shutdown', async (t) => {
  const router = routerFor(t);
  const ctx = await router.docker({ image: 'mitogen-node:test' });
  t.is(ctx.name, 'docker.mitogen-node:test');
  const w = await where(ctx);
  t.like(w, { uid: 0, dockerenv: true, seesProject: false });
  t.regex(w.hostname, /^[0-9a-f]{12}$/); // docker names a container's host after its id
  const listed = () => spawnSync('docker', ['ps', '-a', '-q', '--filter', `id=${w.hostname}`], { encoding: 'utf8' }).stdout.trim();
  t.is(listed(), w.hostname);
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  await ctx.shutdown({ wait: true });
  await waitUntil(() => listed() === '', 20, `docker removes container ${w.hostname}`);
  t.pass();
});

test('docker: a missing, a stopped and a node-less container, and a missing docker binary', async (t) => {
  const router = routerFor(t);
  await notFound(t, router.docker({ container: 'nosuch' }), 'docker.nosuch', /No such container: nosuch/);
  await notFound(t, router.docker({ container: 'mito-docker-stopped' }), 'docker.mito-docker-stopped', /Container [0-9a-f]+ is not running/);
  await notFound(t, router.docker({ container: 'mito-docker1', nodePath: '/nonexistent/node' }), 'docker.mito-docker1', /exec: "\/nonexistent\/node": stat \/nonexistent\/node: no such file or directory/);
  const missing = await t.throwsAsync(router.docker({ container: 'mito-docker1', dockerPath: '/nonexistent/docker' }), { instanceOf: StreamError });
  t.regex(missing!.message, /docker\.mito-docker1: could not start \/nonexistent\/docker: no such file or directory/);
  await t.throwsAsync(router.docker({}), { instanceOf: StreamError, message: /either container or image/ });
});

// ------------------------------------------------------------------ podman, buildah

test('podman: runs in the container as username, an ESM package is forwarded in; a missing container', async (t) => {
  const router = routerFor(t);
  const ctx = await router.podman({ container: 'mito-podman1', username: 'mitouser1' });
  t.is(ctx.name, 'podman.mito-podman1');
  t.like(await where(ctx), { hostname: 'mito-podman1', uid: 1001, home: '/home/mitouser1', containerenv: true, seesProject: false });
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  await notFound(t, router.podman({ container: 'nosuch' }), 'podman.nosuch', /Error: no container with name or ID "nosuch" found/);
});

test('buildah: runs in the working container as username, an ESM package is forwarded in; a missing container', async (t) => {
  const router = routerFor(t);
  const ctx = await router.buildah({ container: 'mito-buildah1', username: 'mitouser2' });
  t.is(ctx.name, 'buildah.mito-buildah1');
  const w = await where(ctx);
  t.like(w, { uid: 1002, containerenv: true, seesProject: false });
  t.not(w.hostname, hostHostname);
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  await notFound(t, router.buildah({ container: 'nosuch' }), 'buildah.nosuch', /Error: reading build container "nosuch": container not known/);
});

// ------------------------------------------------------------------ lxc, lxd

test('lxc: lxc-attach runs in the container with a clean environment; an ESM package; a missing container', async (t) => {
  const router = routerFor(t);
  const ctx = await router.lxc({ container: 'mito-lxc1' });
  t.is(ctx.name, 'lxc.mito-lxc1');
  t.like(await where(ctx), { hostname: 'mito-lxc1', uid: 0, seesProject: false });
  // --clear-env: nothing of the caller's environment crosses.
  t.is(await ctx.call((k: string) => process.env[k], 'NODE_EXTRA_CA_CERTS'), undefined);
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  await notFound(t, router.lxc({ container: 'nosuch' }), 'lxc.nosuch', /lxc-attach: nosuch: .*Failed to get init pid/);
});

test('lxd: lxc exec runs in the unprivileged instance; an ESM package; a missing instance', async (t) => {
  const router = routerFor(t);
  const ctx = await router.lxd({ container: 'mito-lxd1' });
  t.is(ctx.name, 'lxd.mito-lxd1');
  t.like(await where(ctx), { hostname: 'mito-lxd1', uid: 0, seesProject: false });
  // Root inside is an unprivileged uid outside: a user namespace with a shifted map.
  t.notRegex(await ctx.call(() => require('node:fs').readFileSync('/proc/self/uid_map', 'utf8') as string), /^\s*0\s+0\s/);
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  await notFound(t, router.lxd({ container: 'nosuch' }), 'lxd.nosuch', /Error: Instance not found/);
  await notFound(t, router.lxd({ container: 'mito-lxd1', nodePath: '/nonexistent/node' }), 'lxd.mito-lxd1', /Error: Command not found/);
});

// ------------------------------------------------------------------ kubectl

test('kubectl: the argv is kubectl ARGS exec -i POD -- node …', (t) => {
  t.deepEqual(kubectl.argv({ pod: 'web-0', kubectlArgs: ['-n', 'prod'] }, { remoteName: 'x' }),
    ['kubectl', '-n', 'prod', 'exec', '-i', 'web-0', '--', ...firstStageArgv('node', 'x')]);
});

test('kubectl: the real client execs into the pod (fake API server); an ESM package; a missing pod', async (t) => {
  const router = routerFor(t);
  const ctx = await router.kubectl({ pod: 'mito-pod1', kubectlArgs });
  t.like(await where(ctx), { hostname: 'mito-pod1', uid: 0, seesProject: false });
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  await notFound(t, router.kubectl({ pod: 'nosuch', kubectlArgs }), `kubectl.nosuch[${kubectlArgs.join(' ')}]`, /Error from server \(NotFound\): pods "nosuch" not found/);
});

// ------------------------------------------------------------------ jail

test('jail: the argv is FreeBSD jexec\'s, /usr/sbin/jexec [-U USER] JAIL node …', (t) => {
  t.deepEqual(jail.argv({ container: 'www', username: 'deploy' }, { remoteName: 'x' }),
    ['/usr/sbin/jexec', '-U', 'deploy', 'www', ...firstStageArgv('node', 'x')]);
  t.deepEqual(jail.argv({ container: '3' }, { remoteName: 'x' }), ['/usr/sbin/jexec', '3', ...firstStageArgv('node', 'x')]);
});

test('jail: through the stand-in jexec, runs in the jail as username; an ESM package; a missing jail and jexec', async (t) => {
  const router = routerFor(t);
  const ctx = await router.jail({ container: 'mito-jail1', username: 'mitouser1', jexecPath });
  t.is(ctx.name, 'jail.mito-jail1');
  t.like(await where(ctx), { hostname: 'mito-jail1', uid: 1001, seesProject: false });
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  await notFound(t, router.jail({ container: 'nosuch', jexecPath }), 'jail.nosuch', /jexec: jail "nosuch" not found/);
  // Linux has no /usr/sbin/jexec: the default path is named.
  await t.throwsAsync(router.jail({ container: 'mito-jail1' }), { instanceOf: StreamError, message: /could not start \/usr\/sbin\/jexec: no such file or directory/ });
});

// ------------------------------------------------------------------ setns

test('setns docker: enters the container\'s namespaces as username, HOME set; an ESM package', async (t) => {
  const router = routerFor(t);
  const ctx = await router.setns({ kind: 'docker', container: 'mito-docker1', username: 'mitouser2' });
  t.is(ctx.name, 'setns.mito-docker1');
  t.like(await where(ctx), { hostname: 'mito-docker1', uid: 1002, home: '/home/mitouser2', dockerenv: true, seesProject: false });
  // initgroups: mitouser2's supplementary group from the container's /etc/group.
  t.deepEqual(await ctx.call(() => process.getgroups!().sort()), [1001]);
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
});

test('setns lxc: the leader PID from lxc-info', async (t) => {
  const router = routerFor(t);
  const ctx = await router.setns({ kind: 'lxc', container: 'mito-lxc1' });
  t.like(await where(ctx), { hostname: 'mito-lxc1', uid: 0, home: '/root', seesProject: false });
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
});

test('setns lxd: the leader PID from lxc info, into the user namespace too', async (t) => {
  const router = routerFor(t);
  const ctx = await router.setns({ kind: 'lxd', container: 'mito-lxd1', username: 'mitouser1' });
  t.like(await where(ctx), { hostname: 'mito-lxd1', uid: 1001, home: '/home/mitouser1', seesProject: false });
  t.notRegex(await ctx.call(() => require('node:fs').readFileSync('/proc/self/uid_map', 'utf8') as string), /^\s*0\s+0\s/);
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
});

test('setns machinectl: the leader PID from machinectl status (systemd-nspawn)', async (t) => {
  const router = routerFor(t);
  const ctx = await router.setns({ kind: 'machinectl', container: 'mito-nspawn1', machinectlPath });
  t.like(await where(ctx), { hostname: 'mito-nspawn1', uid: 0, seesProject: false });
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
});

test('setns: a missing container of each kind, a stopped one, a missing tool, an unknown user', async (t) => {
  const router = routerFor(t);
  await notFound(t, router.setns({ kind: 'docker', container: 'nosuch' }), 'setns.nosuch', /leader PID of docker container nosuch[^]*Error: No such object: nosuch/);
  await notFound(t, router.setns({ kind: 'lxc', container: 'nosuch' }), 'setns.nosuch', /leader PID of lxc container nosuch[^]*nosuch doesn't exist/);
  await notFound(t, router.setns({ kind: 'lxd', container: 'nosuch' }), 'setns.nosuch', /leader PID of lxd container nosuch[^]*Error: Instance not found/);
  await notFound(t, router.setns({ kind: 'machinectl', container: 'nosuch', machinectlPath }), 'setns.nosuch', /leader PID of machinectl container nosuch[^]*No machine 'nosuch' known/);
  await notFound(t, router.setns({ kind: 'docker', container: 'mito-docker-stopped' }), 'setns.mito-docker-stopped', /docker container mito-docker-stopped is not running/);
  await notFound(t, router.setns({ kind: 'docker', container: 'mito-docker1', dockerPath: '/nonexistent/docker' }), 'setns.mito-docker1', /\/nonexistent\/docker[^]*could not run it[^]*\/nonexistent\/docker: not found/);
  await notFound(t, router.setns({ kind: 'docker', container: 'mito-docker1', username: 'nosuchuser' }), 'setns.mito-docker1', /while transitioning to user nosuchuser in container mito-docker1: no such user/);
  await t.throwsAsync(router.setns({ kind: 'zone' as 'docker', container: 'x' }), { instanceOf: StreamError, message: /unsupported container kind "zone"/ });
});

// ------------------------------------------------------------------ chains

test('via: every method works from a local child, and modules are forwarded through it', async (t) => {
  const router = routerFor(t);
  const hop = await router.local();
  const through = (r: Router) => ({
    docker: r.docker({ container: 'mito-docker1', via: hop }),
    dockerImage: r.docker({ image: 'mitogen-node:test', via: hop }),
    podman: r.podman({ container: 'mito-podman1', via: hop }),
    buildah: r.buildah({ container: 'mito-buildah1', via: hop }),
    lxc: r.lxc({ container: 'mito-lxc1', via: hop }),
    lxd: r.lxd({ container: 'mito-lxd1', via: hop }),
    kubectl: r.kubectl({ pod: 'mito-pod1', kubectlArgs, via: hop }),
    jail: r.jail({ container: 'mito-jail1', jexecPath, via: hop }),
    setnsDocker: r.setns({ kind: 'docker', container: 'mito-docker1', via: hop }),
    setnsLxc: r.setns({ kind: 'lxc', container: 'mito-lxc1', via: hop }),
    setnsLxd: r.setns({ kind: 'lxd', container: 'mito-lxd1', via: hop }),
    setnsMachinectl: r.setns({ kind: 'machinectl', container: 'mito-nspawn1', machinectlPath, via: hop }),
  });
  const expect: Record<string, string | undefined> = {
    docker: 'mito-docker1', dockerImage: undefined, podman: 'mito-podman1', buildah: undefined, lxc: 'mito-lxc1', lxd: 'mito-lxd1',
    kubectl: 'mito-pod1', jail: 'mito-jail1', setnsDocker: 'mito-docker1', setnsLxc: 'mito-lxc1', setnsLxd: 'mito-lxd1', setnsMachinectl: 'mito-nspawn1',
  };
  const pending = through(router);
  for (const [name, connecting] of Object.entries(pending)) {
    const ctx = await connecting;
    t.is(ctx.via, hop, name);
    const w = await where(ctx);
    if (expect[name]) t.is(w.hostname, expect[name], name);
    else t.not(w.hostname, hostHostname, name);
    t.false(w.seesProject, name);
    t.is(await importsEsmPackage(ctx), ESM_RESULT, name);
  }
  t.true(await projectHere(hop));
});

test('via: ssh to a namespace host, then docker from there (two hops, modules forwarded through both)', async (t) => {
  const router = routerFor(t);
  const h = host('h7');
  const ssh = await router.ssh({
    hostname: h.addr, username: 'root', identityFile: sshTestbed().key,
    sshArgs: ['-o', `UserKnownHostsFile ${sshTestbed().knownHosts}`, '-o', 'GlobalKnownHostsFile /dev/null'],
  });
  t.is(await ssh.call(() => require('node:os').hostname() as string), 'h7');
  const ctx = await router.docker({ container: 'mito-docker1', username: 'mitouser1', via: ssh });
  t.like(await where(ctx), { hostname: 'mito-docker1', uid: 1001, dockerenv: true, seesProject: false });
  t.is(await importsEsmPackage(ctx), ESM_RESULT);
  // Errors name the container from the far hop too.
  await notFound(t, router.docker({ container: 'nosuch', via: ssh }), 'docker.nosuch', /No such container: nosuch/);
});
