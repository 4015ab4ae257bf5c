/** The master's id space: u32 in every header, so it must end, never wrap. */
import test from 'ava';
import { IdAllocator, MAX_CONTEXT_ID } from '../../actors/id-allocator.js';

test('ids and blocks come from one counter and never overlap', (t) => {
  const ids = new IdAllocator(MAX_CONTEXT_ID, 10, 5);
  const a = {};
  t.is(ids.allocate(), 1);
  t.deepEqual(ids.lease(a, 'a'), { ok: true, value: { start: 2, count: 10 } });
  t.is(ids.allocate(), 12);
  t.deepEqual(ids.lease(a, 'a'), { ok: true, value: { start: 13, count: 10 } });
});

test('each subtree has its own budget of blocks', (t) => {
  const ids = new IdAllocator(MAX_CONTEXT_ID, 10, 2);
  const a = {}; const b = {};
  t.true(ids.lease(a, 'a').ok);
  t.true(ids.lease(a, 'a').ok);
  t.deepEqual(ids.lease(a, 'child a'), { ok: false, why: 'child a and its descendants have already been leased 2 blocks of 10 ids' });
  t.true(ids.lease(b, 'b').ok);
});

test('the space ends at its maximum: no id or block past it, and never a wrapped one', (t) => {
  const ids = new IdAllocator(25, 10, 100);
  const a = {};
  t.deepEqual(ids.lease(a, 'a'), { ok: true, value: { start: 1, count: 10 } });
  t.deepEqual(ids.lease(a, 'a'), { ok: true, value: { start: 11, count: 10 } });
  // 21..25 remain: not a whole block.
  t.deepEqual(ids.lease(a, 'a'), { ok: false, why: 'context ids exhausted: fewer than 10 of 25 remain' });
  for (let id = 21; id <= 25; id++) t.is(ids.allocate(), id);
  t.throws(() => ids.allocate(), { message: 'context ids exhausted: all 25 have been handed out' });
});

test('the real maximum is the largest id a frame header carries', (t) => {
  t.is(MAX_CONTEXT_ID, 2 ** 32 - 1);
  const ids = new IdAllocator();
  const a = {};
  const l = ids.lease(a, 'a');
  t.true(l.ok && l.value.start + l.value.count - 1 <= MAX_CONTEXT_ID);
});
