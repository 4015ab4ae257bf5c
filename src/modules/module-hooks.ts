/**
 * ESM loader hooks for module forwarding (registered in a child with
 * module.register, running on Node's loader thread). A specifier the child's
 * disk cannot satisfy — or any whose importer itself came from the master —
 * is resolved by the master, exactly as the master resolves it, and its
 * source is served from there. TypeScript always comes from the master,
 * transpiled.
 */
import { isBuiltin } from 'node:module';
import type { MessagePort } from 'node:worker_threads';
import { ModuleTable } from './module-table.js';
import type { ModuleFound, ModuleReply } from './module-wire.js';

const PREFIX = 'mitogen-import:';
const TS_FILE = /\.[cm]?tsx?$/;
const LOCAL_MISS = new Set(['ERR_MODULE_NOT_FOUND', 'ERR_UNSUPPORTED_DIR_IMPORT', 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'ERR_UNKNOWN_FILE_EXTENSION']);

type Reply = ModuleReply;
type Format = ModuleFound['format'];

interface ResolveContext { parentURL?: string; conditions?: string[]; importAttributes?: Record<string, string> }
interface ResolveResult { url: string; format?: string; shortCircuit?: boolean }
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;
interface LoadResult { format: string; source?: string | Uint8Array; shortCircuit?: boolean }
type NextLoad = (url: string, context?: object) => Promise<LoadResult>;

let port: MessagePort;
let nextId = 1;
const pending = new Map<number, (r: Reply) => void>();
const forwarded = new Map<string, { format: Format; source: Uint8Array; exports?: string[] }>();
/** What the broker sent: a preloaded module resolves here without a message. */
const table = new ModuleTable();

export function initialize(data: { port: MessagePort }): void {
  port = data.port;
  port.on('message', (m: { id: number; reply: Reply }) => {
    const p = pending.get(m.id);
    if (p) { pending.delete(m.id); p(m.reply); }
  });
}

function ask(spec: string, parent: string): Promise<Reply> {
  return new Promise((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    port.postMessage({ id, req: { spec, parent, kind: 'import' } });
  });
}

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  let parentURL = context.parentURL;
  if (specifier.startsWith(PREFIX)) {
    [specifier, parentURL] = JSON.parse(decodeURIComponent(specifier.slice(PREFIX.length))) as [string, string];
  }
  if (isBuiltin(specifier)) return next(specifier, { ...context, parentURL });
  if (!(parentURL && forwarded.has(parentURL))) {
    try {
      const local = await next(specifier, { ...context, parentURL });
      if (!TS_FILE.test(local.url)) return local;
    } catch (e) {
      if (!LOCAL_MISS.has((e as { code?: string }).code ?? '')) throw e;
    }
  }
  const parent = parentURL ?? 'file:///';
  let reply = table.answer('import', parent, specifier);
  if (!reply) {
    reply = await ask(specifier, parent);
    table.record({ kind: 'import', parent, spec: specifier }, reply);
  }
  if (!reply.ok) throw Object.assign(new Error(reply.why.message), { code: reply.why.code });
  const r = reply.value;
  if (r.format === 'builtin') return { url: r.url, shortCircuit: true };
  forwarded.set(r.url, { format: r.format, source: r.source!, exports: r.exports });
  return { url: r.url, format: r.format, shortCircuit: true };
}

export async function load(url: string, context: object, next: NextLoad): Promise<LoadResult> {
  const f = forwarded.get(url);
  if (!f) return next(url, context);
  if (f.format === 'commonjs') {
    // CommonJS from the master is evaluated by the main thread's importer;
    // ESM sees its exports as the default export.
    // The names were found in the master by cjs-module-lexer, as Node finds them for a local file.
    // String export names (ES2022) carry any name, reserved words included.
    const names = (f.exports ?? []).filter((n) => n !== 'default' && n !== '__esModule');
    const source = `const m = globalThis[Symbol.for('mitogen-ts.requireUrl')](${JSON.stringify(url)});\nexport default m;\n`
      + names.map((n, i) => `const x${i} = m[${JSON.stringify(n)}];\nexport { x${i} as ${JSON.stringify(n)} };\n`).join('');
    return { format: 'module', source, shortCircuit: true };
  }
  // A copy: preloaded sources share one buffer, and Node may transfer the one it is given.
  return { format: f.format, source: f.source.slice(), shortCircuit: true };
}
