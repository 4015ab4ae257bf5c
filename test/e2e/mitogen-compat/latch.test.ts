// Ported from Mitogen's tests/latch_test.py.
import test from 'ava';
import { Latch, LatchError, TimeoutError } from '../../../src/index.js';

test('latch_test CloseTest.test_nonempty: get() on a closed latch throws even with an item queued', async (t) => {
  const latch = new Latch<string>();
  latch.put('test');
  latch.close();
  await t.throwsAsync(latch.get(), { instanceOf: LatchError, message: Latch.closedMsg });
});

test('latch_test CloseTest.test_nonempty_zero_timeout: likewise with timeout 0', async (t) => {
  const latch = new Latch<string>();
  latch.put('test');
  latch.close();
  await t.throwsAsync(latch.get({ timeout: 0 }), { instanceOf: LatchError });
});

test('latch_test CloseTest.test_put: put() on a closed latch throws', (t) => {
  const latch = new Latch<number>();
  latch.close();
  t.throws(() => latch.put(1), { instanceOf: LatchError });
});

test('latch_test GetTest.test_nonempty: get() returns the queued item', async (t) => {
  const latch = new Latch<number>();
  latch.put(123);
  t.is(await latch.get(), 123);
});

test('latch_test EmptyTest.test_is_empty / test_is_nonempty', (t) => {
  const latch = new Latch<null>();
  t.true(latch.empty());
  latch.put(null);
  t.false(latch.empty());
});

test('latch_test GetTest.test_empty_zero_timeout: nothing queued, timeout 0, TimeoutError', async (t) => {
  await t.throwsAsync(new Latch().get({ timeout: 0 }), { instanceOf: TimeoutError });
});

test('latch_test GetTest.test_nonempty_zero_timeout: a queued item is returned even with timeout 0', async (t) => {
  const obj = {};
  const latch = new Latch<object>();
  latch.put(obj);
  t.is(await latch.get({ timeout: 0 }), obj);
});

test('latch_test ThreadedGetTest.test_one_thread: a pending get() takes a later put()', async (t) => {
  const latch = new Latch<string>();
  const pending = latch.get({ timeout: 3 });
  latch.put('test');
  t.is(await pending, 'test');
});

test('latch_test ThreadedGetTest.test_five_threads: five pending gets take five puts, one each', async (t) => {
  const latch = new Latch<number>();
  const pending = Array.from({ length: 5 }, () => latch.get({ timeout: 3 }));
  for (let x = 0; x < 5; x++) latch.put(x);
  t.deepEqual((await Promise.all(pending)).sort(), [0, 1, 2, 3, 4]);
});

test('latch_test PutTest.test_put: put(null) then get() returns null', async (t) => {
  const latch = new Latch<null>();
  latch.put(null);
  t.is(await latch.get(), null);
});

test('latch_test CloseTest.test_empty_zero_timeout: get() on a closed empty latch throws LatchError, not TimeoutError', async (t) => {
  const latch = new Latch();
  latch.close();
  await t.throwsAsync(latch.get({ timeout: 0 }), { instanceOf: LatchError });
  await t.throwsAsync(latch.get(), { instanceOf: LatchError });
});

test('latch_test CloseTest.test_double_close: closing twice is harmless', (t) => {
  const latch = new Latch();
  latch.close();
  t.notThrows(() => latch.close());
});

test('latch_test ThreadedCloseTest.test_one_thread / test_five_threads: close() rejects every pending get() with LatchError', async (t) => {
  const latch = new Latch<number>();
  const pending = Array.from({ length: 5 }, () => latch.get({ timeout: 3 }));
  latch.close();
  for (const p of pending) await t.throwsAsync(p, { instanceOf: LatchError });
});

test('latch_test EmptyTest.test_closed_is_empty: differs — Mitogen\'s empty() throws on a closed latch; ours answers (isClosed says it is closed)', (t) => {
  const latch = new Latch<null>();
  latch.put(null);
  latch.close();
  t.true(latch.isClosed);
  t.notThrows(() => latch.empty());
});
