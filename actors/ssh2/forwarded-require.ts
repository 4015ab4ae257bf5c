/**
 * A CommonJS package for the broker worker itself (the in-process ssh2
 * client), brought by module forwarding. The broker cannot block on its own
 * module requests as a main thread does, so the package's whole require
 * graph is in this context's table before anything runs: the first reply
 * brings the package's static closure (the preload); the walk below follows
 * each module's resolved `require` edges through the table, asking the
 * parent only for what a burst bound left out, then evaluates synchronously.
 * A module that cannot be had (a native `.node` addon, an optional
 * dependency the master lacks) throws MODULE_NOT_FOUND when required, as
 * Node would, so packages that treat it as optional carry on.
 */
import { isBuiltin } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import type { ModuleReply, ModuleRequest } from '../../src/modules/module-wire.js';
import { edgeKey, ModuleTable } from '../../src/modules/module-table.js';

/** A ModuleRequest parent meaning "where mitogen-ts is installed, in the master". */
export const PACKAGE_PARENT = 'mitogen-ts:package';

interface Loaded { url: string; format: string; text: string }
interface CjsModule { exports: unknown; loaded: boolean }

export async function requireForwarded(
  spec: string,
  fetch: (req: ModuleRequest) => Promise<ModuleReply>,
): Promise<unknown> {
  const table = new ModuleTable();
  const byEdge = new Map<string, Loaded | Error>();
  const seen = new Set<string>();
  let level: [string, string][] = [[PACKAGE_PARENT, spec]];
  while (level.length) {
    const next: [string, string][] = [];
    await Promise.all(level.map(async ([parent, s]) => {
      const key = edgeKey('require', parent, s);
      let reply = table.answer('require', parent, s);
      if (!reply) {
        const req: ModuleRequest = { spec: s, parent, kind: 'require' };
        reply = await fetch(req);
        table.record(req, reply);
      }
      if (!reply.ok) { byEdge.set(key, notFound(s, parent, reply.why.message)); return; }
      const r = reply.value;
      if (r.format === 'builtin') { byEdge.set(key, { url: r.url, format: 'builtin', text: '' }); return; }
      const text = r.source ? Buffer.from(r.source.buffer, r.source.byteOffset, r.source.byteLength).toString('utf8') : '';
      byEdge.set(key, { url: r.url, format: r.format, text });
      if (seen.has(r.url) || r.format !== 'commonjs') return;
      seen.add(r.url);
      for (const d of r.deps ?? []) if (d[0] === 'require') next.push([r.url, d[1]]);
    }));
    level = next.filter(([p, s]) => !byEdge.has(edgeKey('require', p, s)));
  }

  const instances = new Map<string, CjsModule>();
  const load = (parent: string, s: string): unknown => {
    if (isBuiltin(s)) return require(s);
    const got = byEdge.get(edgeKey('require', parent, s));
    if (!got) throw notFound(s, parent, 'not a static require of the package (a computed require?)');
    if (got instanceof Error) throw got;
    if (got.format === 'builtin') return require(got.url);
    const known = instances.get(got.url);
    if (known) return known.exports;
    const m: CjsModule = { exports: {}, loaded: false };
    instances.set(got.url, m);
    if (got.format === 'json') {
      m.exports = JSON.parse(got.text);
    } else if (got.format === 'commonjs') {
      const filename = fileURLToPath(got.url);
      const fn = vm.compileFunction(got.text, ['exports', 'require', 'module', '__filename', '__dirname'], { filename });
      fn.call(m.exports, m.exports, (x: string) => load(got.url, x), m, filename, dirname(filename));
    } else {
      throw new Error(`${got.url} is an ES module: the broker can only load CommonJS packages`);
    }
    m.loaded = true;
    return m.exports;
  };
  return load(PACKAGE_PARENT, spec);
}

function notFound(spec: string, parent: string, why?: string): Error {
  const e = new Error(`Cannot find module '${spec}' (required from ${parent})${why ? `: ${why}` : ''}`) as NodeJS.ErrnoException;
  e.code = 'MODULE_NOT_FOUND';
  return e;
}
