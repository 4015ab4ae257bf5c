// Loaded with `node --require` into a process the profile scripts start (bench/profile/*.ts), never
// into the shipped runtime: it watches from outside what the runtime does. By environment:
//
//   MITO_PROF_DIR=DIR        every Worker this process starts gets --cpu-prof into DIR too (the
//                            runtime starts its broker with execArgv: [], which would leave the
//                            broker thread unprofiled); MITO_PROF_INTERVAL sets the interval, µs.
//   MITO_BOOT_STAMPS=FILE    appends one JSON line per boot stage to FILE: { stage, thread, t }
//                            with t = process.hrtime.bigint() as a string (one monotonic clock for
//                            every thread and process), from fs.writeSync of the MITO markers, the
//                            first stage's new Worker (the broker's, started before the runtime is
//                            read), the zlib.inflateSync of the payload and the JSON.parse after it,
//                            the vm.Script compile and run of the main bundle, the message that
//                            gives the worker its bundle, and in the worker: its first line, its
//                            bundle's vm.Script compile and run, and its MITO002 write.
'use strict';
const fs = require('node:fs');
const wt = require('node:worker_threads');
const { syncBuiltinESMExports } = require('node:module');

const profDir = process.env.MITO_PROF_DIR;
const stampFile = process.env.MITO_BOOT_STAMPS;

function stamp(stage, thread = 'main') {
  fs.appendFileSync(stampFile, `${JSON.stringify({ stage, thread, t: String(process.hrtime.bigint()) })}\n`);
}

if (stampFile && wt.isMainThread) {
  // Node's own start: the process began performance.now() ms before this line.
  const now = process.hrtime.bigint();
  fs.appendFileSync(stampFile, `${JSON.stringify({ stage: 'process start', thread: 'main', t: String(now - BigInt(Math.round(performance.now() * 1e6))) })}\n`);
  stamp('preload (node bootstrapped)');

  const writeSync = fs.writeSync;
  fs.writeSync = function (fd, data, ...rest) {
    if (typeof data === 'string' && /^MITO00\d/.test(data)) { stamp(`${data.trim()} written`); globalThis.__mitoMarker?.(data.trim()); }
    return writeSync.call(this, fd, data, ...rest);
  };
  const zlib = require('node:zlib');
  const inflateSync = zlib.inflateSync;
  // Only the payload's inflate, after MITO001 (the code caches are inflated before it).
  let read = false;
  let inflated = false;
  zlib.inflateSync = function (...a) {
    if (!read || inflated) return inflateSync.apply(this, a);
    stamp('inflate start');
    const r = inflateSync.apply(this, a);
    stamp('inflate end');
    inflated = true;
    return r;
  };
  const onMarker = (m) => { if (m === 'MITO001') read = true; };
  const parse = JSON.parse;
  let parsed = false;
  JSON.parse = function (...a) {
    const r = parse.apply(this, a);
    if (inflated && !parsed) { parsed = true; stamp('runtime JSON parsed'); }
    return r;
  };
  globalThis.__mitoMarker = onMarker;
  patchScript(require('node:vm'), 'mitogen:main', 'main bundle', stamp);
}

/**
 * Replaces vm.Script so that the Script named `filename` stamps its compile and the run of the
 * function it evaluates to (the bundles are wrapped in a function their runner then calls).
 */
function patchScript(vm, filename, what, S) {
  const Base = vm.Script;
  vm.Script = class extends Base {
    constructor(src, opts) {
      const mine = opts && opts.filename === filename;
      if (mine) S(`${what} compile start`);
      super(src, opts);
      if (mine) S(`${what} compiled`);
      this.__mine = mine;
    }
    runInThisContext(...a) {
      const f = super.runInThisContext(...a);
      if (!this.__mine || typeof f !== 'function') return f;
      return function (...args) {
        S(`${what} eval start`);
        try { return f.apply(this, args); } finally { S(`${what} eval end`); }
      };
    }
  };
}

if (wt.isMainThread && (profDir || stampFile)) {
  const Base = wt.Worker;
  class Worker extends Base {
    constructor(source, opts = {}) {
      let o = opts;
      if (profDir) {
        const inherited = (o.execArgv ?? process.execArgv).filter((a) => !a.startsWith('--cpu-prof'));
        const interval = process.env.MITO_PROF_INTERVAL ?? '100';
        o = { ...o, execArgv: [...inherited, '--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-interval=${interval}`] };
      }
      // The first stage's worker: a one-line loader that evals the message it is sent (the bundle's runner).
      if (stampFile && o.eval && typeof source === 'string' && source.includes("parentPort.once('message'")) {
        stamp('new Worker (broker)');
        const pre = `(()=>{const fs=require('node:fs'),net=require('node:net');`
          + `const S=(s)=>fs.appendFileSync(${JSON.stringify(stampFile)},JSON.stringify({stage:s,thread:'broker',t:String(process.hrtime.bigint())})+'\\n');`
          + `S('broker worker up');(${patchScript.toString()})(require('node:vm'),'mitogen:broker','broker bundle',S);`
          + `const w=net.Socket.prototype.write;net.Socket.prototype.write=function(d,...r){if(typeof d==='string'&&d.startsWith('MITO002'))S('MITO002 written');return w.call(this,d,...r)};})();\n`;
        source = `${pre}${source}`;
      }
      super(source, o);
    }

    postMessage(m, ...rest) {
      if (stampFile && m && typeof m.l === 'string') stamp('broker sent its bundle');
      return super.postMessage(m, ...rest);
    }
  }
  wt.Worker = Worker;
  syncBuiltinESMExports();
}
