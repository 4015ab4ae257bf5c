/**
 * Router's connection methods, one for each way of starting a context: each
 * names its transport (transports/, the command it runs) and hands it to
 * connect(), which the Router implements. Router extends this class, so the
 * methods are Router's own public API (the spec's API.md), kept here apart from
 * the routing.
 */
import type { Context } from '../runtime/context.js';
import type { ConnectOptions } from './connect-spec.js';
import { buildah as buildahTransport } from '../../transports/buildah.js';
import type { BuildahOptions } from '../../transports/buildah.js';
import { docker as dockerTransport } from '../../transports/docker.js';
import type { DockerOptions } from '../../transports/docker.js';
import { doas as doasTransport } from '../../transports/doas.js';
import type { DoasOptions } from '../../transports/doas.js';
import { fork as forkTransport } from '../../transports/fork.js';
import type { ForkOptions } from '../../transports/fork.js';
import { jail as jailTransport } from '../../transports/jail.js';
import type { JailOptions } from '../../transports/jail.js';
import { kubectl as kubectlTransport } from '../../transports/kubectl.js';
import type { KubectlOptions } from '../../transports/kubectl.js';
import { local as localTransport } from '../../transports/local.js';
import type { LocalOptions } from '../../transports/local.js';
import { lxc as lxcTransport } from '../../transports/lxc.js';
import type { LxcOptions } from '../../transports/lxc.js';
import { lxd as lxdTransport } from '../../transports/lxd.js';
import type { LxdOptions } from '../../transports/lxd.js';
import { podman as podmanTransport } from '../../transports/podman.js';
import type { PodmanOptions } from '../../transports/podman.js';
import { setns as setnsTransport } from '../../transports/setns.js';
import type { SetnsOptions } from '../../transports/setns.js';
import { ssh as sshTransport } from '../../transports/ssh.js';
import type { SshOptions } from '../../transports/ssh.js';
import { ssh2 as ssh2Transport } from '../../transports/ssh2.js';
import { su as suTransport } from '../../transports/su.js';
import type { SuOptions } from '../../transports/su.js';
import { sudo as sudoTransport } from '../../transports/sudo.js';
import type { SudoOptions } from '../../transports/sudo.js';
import type { AnyTransport } from '../../transports/transport.js';

export abstract class ConnectMethods {
  /** Starts a context with any transport: the core of every connection method. */
  abstract connect<O>(transport: AnyTransport<O>, opts: O & ConnectOptions): Promise<Context>;

  /** Starts a Node.js child of this context (or of `opts.via`). */
  local(opts: LocalOptions & ConnectOptions = {}): Promise<Context> {
    return this.connect(localTransport, opts);
  }

  /**
   * A new context in a worker thread of this context (or of `via`): its own
   * isolate, globals, module cache and dispatcher, started in milliseconds.
   */
  fork(opts: ForkOptions & ConnectOptions = {}): Promise<Context> {
    return this.connect(forkTransport, opts);
  }

  /** Connects to a host with ssh: the remote side needs only `node`. */
  ssh(opts: SshOptions & ConnectOptions): Promise<Context> {
    return opts.client === 'ssh2' ? this.connect(ssh2Transport, opts) : this.connect(sshTransport, opts);
  }

  /** Becomes another user with sudo (in a PTY when it asks for a password). */
  sudo(opts: SudoOptions & ConnectOptions = {}): Promise<Context> {
    return this.connect(sudoTransport, opts);
  }

  /** Becomes another user with su, typing the target's password. */
  su(opts: SuOptions & ConnectOptions = {}): Promise<Context> {
    return this.connect(suTransport, opts);
  }

  /** Becomes another user with doas. */
  doas(opts: DoasOptions & ConnectOptions = {}): Promise<Context> {
    return this.connect(doasTransport, opts);
  }

  // Containers: each a thin description in transports/ (the argv it runs).
  /** Runs node in a docker container (`exec`), or in a temporary one from `image` (`run --rm`). */
  docker(opts: DockerOptions & ConnectOptions): Promise<Context> { return this.connect(dockerTransport, opts); }
  /** Runs node in a podman container (`podman exec`). */
  podman(opts: PodmanOptions & ConnectOptions): Promise<Context> { return this.connect(podmanTransport, opts); }
  /** Runs node in a buildah working container (`buildah run`). */
  buildah(opts: BuildahOptions & ConnectOptions): Promise<Context> { return this.connect(buildahTransport, opts); }
  /** Runs node in an LXC container (`lxc-attach`). */
  lxc(opts: LxcOptions & ConnectOptions): Promise<Context> { return this.connect(lxcTransport, opts); }
  /** Runs node in an LXD instance (`lxc exec`). */
  lxd(opts: LxdOptions & ConnectOptions): Promise<Context> { return this.connect(lxdTransport, opts); }
  /** Runs node in a FreeBSD jail (`jexec`). */
  jail(opts: JailOptions & ConnectOptions): Promise<Context> { return this.connect(jailTransport, opts); }
  /** Runs node in a Kubernetes pod (`kubectl exec`). */
  kubectl(opts: KubectlOptions & ConnectOptions): Promise<Context> { return this.connect(kubectlTransport, opts); }
  /** Enters a container's namespaces directly (leader PID from docker, lxc-info, lxc or machinectl; then nsenter). */
  setns(opts: SetnsOptions & ConnectOptions): Promise<Context> { return this.connect(setnsTransport, opts); }
}
