/**
 * What the master's module responder may serve: Mitogen's
 * whitelist_prefix/blacklist_prefix, for files. A rule is a package name
 * (`lodash` covers `lodash/fp` and every file of that package) or an
 * absolute path or file URL prefix (`/srv/app/`). With an allow list, only
 * what it names is served; the deny list always wins. The packages the
 * runtime itself forwards (ssh2 and its dependencies, for an in-process ssh
 * client in a via context) stay allowed.
 */
import { fileURLToPath } from 'node:url';

export interface ModulePolicy {
  /** When non-empty, only modules these rules name are served. */
  allow: string[];
  /** Modules these rules name are never served. */
  deny: string[];
}

export const RUNTIME_PACKAGES = ['ssh2', 'asn1', 'bcrypt-pbkdf', 'safer-buffer', 'tweetnacl', 'cpu-features', 'nan'];

function packageOf(path: string): string | undefined {
  const i = path.lastIndexOf('/node_modules/');
  if (i < 0) return undefined;
  const rest = path.slice(i + '/node_modules/'.length).split('/');
  return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

function matches(rule: string, path: string, pkg: string | undefined): boolean {
  if (rule.startsWith('file:')) rule = fileURLToPath(rule);
  if (rule.startsWith('/')) return path === rule || path.startsWith(rule.endsWith('/') ? rule : `${rule}/`);
  return pkg === rule;
}

/** Why `url` may not be served, or undefined when it may. */
export function refusal(policy: ModulePolicy, url: string): string | undefined {
  if (!url.startsWith('file:')) return undefined; // node: builtins are never sent
  const path = fileURLToPath(url);
  const pkg = packageOf(path);
  const denied = policy.deny.find((r) => matches(r, path, pkg));
  if (denied) return `denied by the master's module policy (deny ${denied})`;
  if (policy.allow.length && !policy.allow.some((r) => matches(r, path, pkg)) && !(pkg && RUNTIME_PACKAGES.includes(pkg))) {
    return `not in the master's module allow list (${policy.allow.join(', ')})`;
  }
  return undefined;
}
