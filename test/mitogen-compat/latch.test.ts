// Ported from Mitogen's tests/latch_test.py.
import test from 'ava';
import { Latch, LatchError } from '../../src/index.js';

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
