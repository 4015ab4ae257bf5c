/**
 * The first stage: the few hundred characters of JavaScript passed to
 * `node -e`. It checks the Node version (>= 18, else it prints MITOVER and
 * the version), prints MITO000, reads the deflated runtime and the child's
 * config from stdin with blocking reads (no stream is opened on fd 0, so the
 * broker worker can take the fd over afterwards), then the V8 code caches
 * the config announces (ChildConfig.cc), prints MITO001 and runs the
 * runtime: the main bundle compiled with vm.Script, given its cache when the
 * cache was made for this very Node (ChildConfig.ce; V8 rejects a bad one
 * and compiles as usual). argv[1] is the process title, `mitogen:<remoteName>`.
 *
 * Written with short names on purpose: it travels in argv and shows in `ps`.
 */
import { MITO000, MITO001, MITOVER } from './bootstrap-markers.js';
import { MAIN_WRAPPER } from './bundle-wrappers.js';

const STAGE1 = [
  "const F=require('fs'),Z=require('zlib');",
  // Refuse an interpreter too old for the runtime before reading it, naming the version.
  `if(+process.versions.node.split('.')[0]<18){F.writeSync(1,'${MITOVER}'+process.version+'\\n');process.exit(1)}`,
  'process.title=process.argv[1]||"mitogen";',
  // A working directory that no longer exists (or lies outside a container's root, after nsenter)
  // makes process.cwd() throw, in the broker worker's start too: start from / instead, before it.
  "try{process.cwd()}catch{try{process.chdir('/')}catch{}}",
  // The broker worker's isolate boots while this thread reads, inflates and runs the runtime:
  // it waits for its bundle and init (src/runtime/broker-start.ts), stdio left to the runtime to pipe.
  "const B=new(require('worker_threads').Worker)(\"require('worker_threads').parentPort.once('message',m=>eval(m.l))\",{eval:true,execArgv:[],stdout:true,stderr:true});",
  `F.writeSync(1,'${MITO000}\\n');`,
  'const W=new Int32Array(new SharedArrayBuffer(4));',
  'const R=n=>{const b=Buffer.allocUnsafe(n);for(let o=0;o<n;){let k;',
  "try{k=F.readSync(0,b,o,n-o)}catch(e){if(e.code!=='EAGAIN')throw e;Atomics.wait(W,0,0,2);continue}",
  "if(!k){F.writeSync(2,'mitogen: EOF while reading the runtime\\n');process.exit(1)}o+=k}return b};",
  'const P=R(R(4).readUInt32BE(0)),C=JSON.parse(R(R(4).readUInt32BE(0))),K=C.cc&&C.cc.map(n=>{try{return Z.inflateSync(R(n))}catch{return R(0)}});',
  `F.writeSync(1,'${MITO001}\\n');`,
  // K: the caches (deflated on the wire; one that does not inflate is none), used only if made for this Node (codeEnv() in bootstrap-types.ts, the same expression).
  'const J=JSON.parse(Z.inflateSync(P)),E=C.ce==process.version+process.arch;',
  `const S=new(require('vm').Script)(${JSON.stringify(MAIN_WRAPPER[0])}+J.main+${JSON.stringify(MAIN_WRAPPER[1])},{filename:'mitogen:main',cachedData:E&&K[0].length?K[0]:void 0});`,
  "S.runInThisContext()(require,J,P,C,s=>import(s),E?K:null,S,B)",
].join('');

export function firstStage(): string {
  return STAGE1;
}

/** The argv that runs the first stage with the given interpreter. */
export function firstStageArgv(nodePath: string | string[], remoteName: string): string[] {
  const node = typeof nodePath === 'string' ? [nodePath] : [...nodePath];
  return [...node, '-e', STAGE1, `mitogen:${remoteName}`];
}
