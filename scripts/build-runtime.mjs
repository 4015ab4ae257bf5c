// Builds dist/runtime/payload.bin: the runtime children receive, bundled from
// the TypeScript sources so the published package needs no bundling at run time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildRuntimePayload } from '../dist/src/runtime-payload.js';

const root = new URL('..', import.meta.url);
const { compressed, parsed } = buildRuntimePayload(root);
mkdirSync(new URL('../dist/runtime/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/runtime/payload.bin', import.meta.url), compressed);
const kb = (s) => (s.length / 1024).toFixed(0);
console.log(`runtime payload: ${(compressed.length / 1024).toFixed(1)} KiB deflated (main ${kb(parsed.main)} KiB, broker ${kb(parsed.broker)} KiB, hooks ${kb(parsed.hooks)} KiB)`);
