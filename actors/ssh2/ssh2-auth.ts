/**
 * What the in-process ssh2 client offers a server, in OpenSSH's order: none
 * (to learn the server's methods), the identity files, the agent's keys
 * (under IdentitiesOnly, only those of the identity files), the password,
 * keyboard-interactive. An encrypted identity file is opened with the
 * passphrase; without one it is skipped and the final "Permission denied"
 * says so (a PasswordError naming the file).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { AnyAuthMethod, AuthHandlerMiddleware, BaseAgent, Client, KeyboardInteractiveCallback, OpenSSHAgent, ParsedKey, Prompt } from 'ssh2';

/** ssh2 ends authentication when given false; its types leave that out. */
type NextAuth = (method: AnyAuthMethod | false) => void;

/** What of the ssh2 package the client uses. */
export interface Ssh2Module {
  Client: new () => Client;
  OpenSSHAgent: typeof OpenSSHAgent;
  utils: { parseKey(data: Buffer | string, passphrase?: string): ParsedKey | ParsedKey[] | Error };
}

export interface AuthInputs {
  user: string;
  identityFiles: string[];
  identitiesOnly: boolean;
  /** The agent's socket, if any. */
  agent?: string;
  password?: string;
  passphrase?: string;
  /** What the config allows (PubkeyAuthentication and the like). */
  methods: { publickey: boolean; password: boolean; keyboardInteractive: boolean };
}

export class Ssh2Auth {
  /** Identity files skipped: encrypted, and no passphrase given. */
  readonly #encrypted: string[] = [];
  /** Identity files the passphrase did not open. */
  readonly #wrongPassphrase: string[] = [];
  #methodsOffered: string[] = [];
  readonly #queue: AnyAuthMethod[];

  readonly #inputs: AuthInputs;
  readonly #mod: Ssh2Module;
  readonly #debug?: (line: string) => void;

  constructor(inputs: AuthInputs, mod: Ssh2Module, debug?: (line: string) => void) {
    this.#inputs = inputs;
    this.#mod = mod;
    this.#debug = debug;
    const { user } = inputs;
    const queue: AnyAuthMethod[] = [{ type: 'none', username: user }];
    const publics: string[] = [];
    const { methods } = inputs;
    for (const file of methods.publickey ? inputs.identityFiles : []) {
      const key = this.#readKey(file);
      if (key.public) publics.push(key.public);
      if (key.private) queue.push({ type: 'publickey', username: user, key: key.private });
    }
    if (inputs.agent && methods.publickey) queue.push({ type: 'agent', username: user, agent: inputs.identitiesOnly ? this.#onlyKeys(inputs.agent, publics) : inputs.agent });
    if (inputs.password !== undefined) {
      const pw = inputs.password;
      if (methods.password) queue.push({ type: 'password', username: user, password: pw });
      const answer = (_n: string, _i: string, _l: string, prompts: Prompt[], finish: KeyboardInteractiveCallback): void => finish(prompts.map(() => pw));
      if (methods.keyboardInteractive) queue.push({ type: 'keyboard-interactive', username: user, prompt: answer });
    }
    // With no password, keyboard-interactive can only fail: ssh in BatchMode does not try it either.
    this.#queue = queue;
  }

  handler(): AuthHandlerMiddleware {
    return (methodsLeft, _partial, nextAuth) => {
      const next = nextAuth as NextAuth;
      if (methodsLeft) this.#methodsOffered = methodsLeft;
      while (this.#queue.length) {
        const m = this.#queue.shift()!;
        if (m.type === 'none' || !methodsLeft || methodsLeft.includes(m.type === 'agent' ? 'publickey' : m.type)) { next(m); return; }
      }
      next(false);
    };
  }

  /** ssh's words when every method failed, and why a key was not offered. */
  deniedText(): string {
    const why = [
      ...this.#encrypted.map((f) => ` The identity file ${f} is encrypted and no passphrase was given (the passphrase option).`),
      ...this.#wrongPassphrase.map((f) => ` The passphrase does not open the identity file ${f}.`),
    ];
    return `Permission denied (${this.#methodsOffered.join(',') || 'no methods offered'}).${why.join('')}`;
  }

  /**
   * A key file, parsed (once: an encrypted key's KDF takes about a second
   * in ssh2's JavaScript), and its public half (for matching agent keys).
   */
  #readKey(file: string): { private?: ParsedKey; public?: string } {
    let data: Buffer;
    try { data = readFileSync(file); } catch (e) {
      this.#debug?.(`ssh2: identity file ${file} not readable: ${(e as Error).message}`);
      return {};
    }
    const pub = existsSync(`${file}.pub`) ? publicOf(this.#mod.utils.parseKey(readFileSync(`${file}.pub`))) : undefined;
    const parsed = this.#mod.utils.parseKey(data, this.#inputs.passphrase);
    if (parsed instanceof Error) {
      if (this.#inputs.passphrase === undefined && /encrypted|passphrase/i.test(parsed.message)) this.#encrypted.push(file);
      else if (this.#inputs.passphrase !== undefined) this.#wrongPassphrase.push(file);
      else this.#debug?.(`ssh2: identity file ${file} not usable: ${parsed.message}`);
      return { public: pub };
    }
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    return { private: key, public: pub ?? publicOf(parsed) };
  }

  /** The agent, showing only the keys whose public halves are given (IdentitiesOnly). */
  #onlyKeys(socket: string, publics: string[]): BaseAgent {
    const Agent = this.#mod.OpenSSHAgent;
    class Only extends Agent {
      override getIdentities(cb: (err: Error | null | undefined, keys?: ParsedKey[]) => void): void {
        // An OpenSSH agent's identities are parsed keys (the declared type is wider).
        super.getIdentities((err, keys) => cb(err, (keys as ParsedKey[] | undefined)?.filter((k) => publics.includes(k.getPublicSSH().toString('base64')))));
      }
    }
    return new Only(socket);
  }
}

function publicOf(k: ParsedKey | ParsedKey[] | Error): string | undefined {
  const key = Array.isArray(k) ? k[0] : k;
  return key && !(key instanceof Error) ? key.getPublicSSH().toString('base64') : undefined;
}
