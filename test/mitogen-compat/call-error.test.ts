// Ported from Mitogen's tests/call_error_test.py.
import test from 'ava';
import { CallError } from '../../src/index.js';

class MyError extends Error {}

test('call_error_test FromExceptionTest.test_exception_subclass: type is the subclass name when name is inherited', (t) => {
  const e = CallError.fromThrown(new MyError('eek'));
  t.is(e.type, 'MyError');
  t.regex(e.message, /^MyError: eek/);
});

test('call_error_test FromExceptionTest.test_from_exc_tb: a builtin keeps its name', (t) => {
  t.is(CallError.fromThrown(new TypeError('x')).type, 'TypeError');
});
