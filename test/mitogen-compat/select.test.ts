// Ported from Mitogen's tests/select_test.py.
import test from 'ava';
import { Latch, LatchError, Select } from '../../src/index.js';

test('select_test AddTest.test_subselect_loop_direct: a Select cannot contain itself', (t) => {
  const s0 = new Select<number>();
  t.throws(() => s0.add(s0 as never), { instanceOf: LatchError, message: /Select cycle/ });
  t.is(s0.size, 0);
});

test('select_test AddTest.test_subselect_loop_indirect: s2.add(s0) with s0 > s1 > s2 throws and adds nothing', (t) => {
  const s0 = new Select<number>();
  const s1 = new Select<number>();
  const s2 = new Select<number>();
  s0.add(s1);
  s1.add(s2);
  t.throws(() => s2.add(s0), { instanceOf: LatchError, message: 'Adding this Select instance would create a Select cycle' });
  t.is(s2.size, 0);
  t.true(s0.empty());
});

test('select_test CloseTest.test_latch / test_subselect: close() detaches every member', (t) => {
  const latch = new Latch<number>();
  const sub = new Select<number>();
  const sel = new Select<number>([latch, sub]);
  t.is(sel.size, 2);
  sel.close();
  t.is(sel.size, 0);
  // Detached: the latch is free to join another Select.
  t.notThrows(() => new Select<number>([latch]));
});

test('select_test CloseTest: close() wakes a pending get(), which throws LatchError', async (t) => {
  const sel = new Select<number>([new Latch<number>()]);
  const pending = sel.get();
  sel.close();
  await t.throwsAsync(pending, { instanceOf: LatchError });
});

test('select_test: `using` (Symbol.dispose) is the TS form of `with Select()` and closes it', (t) => {
  const latch = new Latch<number>();
  const sel = new Select<number>([latch]);
  sel[Symbol.dispose]();
  t.is(sel.size, 0);
});
