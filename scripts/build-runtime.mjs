// Builds dist/runtime/payload.bin: the runtime children receive, bundled from
// the TypeScript sources so the published package needs no bundling at run time.
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildRuntimePayload } from '../dist/src/master/runtime-payload.js';

const root = new URL('..', import.meta.url);
const { compressed, parsed, masterBroker } = buildRuntimePayload(root);
mkdirSync(new URL('../dist/runtime/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/runtime/payload.bin', import.meta.url), compressed);
// The master's own broker: never sent to a child.
writeFileSync(new URL('../dist/runtime/master-broker.js', import.meta.url), masterBroker);
const kb = (s) => (s.length / 1024).toFixed(0);
console.log(`runtime payload: ${(compressed.length / 1024).toFixed(1)} KiB deflated (main ${kb(parsed.main)} KiB, broker ${kb(parsed.broker)} KiB, hooks ${kb(parsed.hooks)} KiB; the master's broker, not sent: ${kb(masterBroker)} KiB)`);
