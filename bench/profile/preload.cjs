// Loaded with `node --require` into a process the profile scripts start (bench/profile/*.ts), never
// into the shipped runtime: it watches from outside what the runtime does. By environment:
//
//   MITO_PROF_DIR=DIR        every Worker this process starts gets --cpu-prof into DIR too (the
//                            runtime starts its broker with execArgv: [], which would leave the
//                            broker thread unprofiled); MITO_PROF_INTERVAL sets the interval, µs.
//   MITO_BOOT_STAMPS=FILE    appends one JSON line per boot stage to FILE: { stage, thread, t }
//                            with t = process.hrtime.bigint() as a string (one monotonic clock for
//                            every thread and process), from fs.writeSync of the MITO markers,
//                            zlib.inflateSync, the JSON.parse of the runtime, the main bundle's
//                            Function, new Worker, the broker bundle's eval and its MITO002 write.
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
    if (typeof data === 'string' && /^MITO00\d/.test(data)) stamp(`${data.trim()} written`);
    return writeSync.call(this, fd, data, ...rest);
  };
  const zlib = require('node:zlib');
  const inflateSync = zlib.inflateSync;
  let inflated = false;
  zlib.inflateSync = function (...a) {
    stamp('inflate start');
    const r = inflateSync.apply(this, a);
    stamp('inflate end');
    inflated = true;
    return r;
  };
  const parse = JSON.parse;
  JSON.parse = function (...a) {
    const r = parse.apply(this, a);
    if (inflated) { inflated = false; stamp('runtime JSON parsed'); }
    return r;
  };
  // The first stage runs the main bundle with new Function(...): time its compile and its run.
  const F = Function;
  const Wrapped = function (...a) {
    const big = typeof a[a.length - 1] === 'string' && a[a.length - 1].length > 50_000;
    if (big) stamp('main bundle compile start');
    const f = F(...a);
    if (!big) return f;
    stamp('main bundle compiled');
    return function (...args) {
      stamp('main bundle eval start');
      try { return f.apply(this, args); } finally { stamp('main bundle eval end'); }
    };
  };
  Wrapped.prototype = F.prototype;
  globalThis.Function = Wrapped;
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
      if (stampFile && o.eval && typeof source === 'string' && source.length > 50_000) {
        stamp('new Worker (broker)');
        const pre = `(()=>{const fs=require('node:fs'),net=require('node:net');`
          + `const S=(s)=>fs.appendFileSync(${JSON.stringify(stampFile)},JSON.stringify({stage:s,thread:'broker',t:String(process.hrtime.bigint())})+'\\n');`
          + `globalThis.__mitoStamp=S;S('broker bundle eval start');`
          + `const w=net.Socket.prototype.write;net.Socket.prototype.write=function(d,...r){if(typeof d==='string'&&d.startsWith('MITO002'))S('MITO002 written');return w.call(this,d,...r)};})();\n`;
        source = `${pre}${source}\n;globalThis.__mitoStamp('broker bundle eval end');`;
      }
      super(source, o);
    }
  }
  wt.Worker = Worker;
  syncBuiltinESMExports();
}
