/** Router defaults the README promises: 32 connections at once, and 1 GiB unsent to a peer before it is cut off. */
import test from 'ava';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { currentRouter, EofError } from '../../src/index.js';
import { routerFor, waitUntil } from '../helpers.js';

test('maxConcurrentConnects defaults to 32: the 33rd connection waits until one ends', async (t) => {
  const router = routerFor(t);
  t.is(router.maxConcurrentConnects, 32);
  const dir = mkdtempSync(join(os.tmpdir(), 'mt-connects-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Each target marks that it started, then holds its connection open until released (or the
  // test's directory is gone), then exits without booting: cheap, and ends each connect.
  const nodePath = ['sh', '-c', `touch "${dir}/started.$$"; while [ ! -e "${dir}/go" ] && [ -d "${dir}" ]; do sleep 0.05; done; exit 7`, 'sh'];
  const attempts = Array.from({ length: 40 }, () => router.local({ nodePath, connectTimeout: 120 }));
  t.is(router.connectsInFlight, 32, 'counted as soon as asked: 32 under way, 8 waiting');
  const started = (): number => readdirSync(dir).filter((f) => f.startsWith('started.')).length;
  await waitUntil(() => started() === 32, 60, '32 targets start');
  t.is(router.connectsInFlight, 32);
  writeFileSync(join(dir, 'go'), '');
  const results = await Promise.allSettled(attempts);
  t.true(results.every((r) => r.status === 'rejected' && r.reason instanceof EofError && /exited with status 7/.test(r.reason.message)));
  t.is(started(), 40, 'the waiting 8 ran once others ended');
  t.is(router.connectsInFlight, 0);
});

test('maxUnsentBytes defaults to 1 GiB, in the master and in a child', async (t) => {
  const router = routerFor(t);
  t.is(router.maxUnsentBytes, 2 ** 30);
  const ctx = await router.local();
  t.is(await ctx.call(() => currentRouter()!.maxUnsentBytes), 2 ** 30);
});
