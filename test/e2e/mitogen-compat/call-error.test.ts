// Ported from Mitogen's tests/call_error_test.py.
import test from 'ava';
import { CallError, Message } from '../../../src/index.js';

class MyError extends Error {}

test('call_error_test FromExceptionTest.test_exception_subclass: type is the subclass name when name is inherited', (t) => {
  const e = CallError.fromThrown(new MyError('eek'));
  t.is(e.type, 'MyError');
  t.regex(e.message, /^MyError: eek/);
});

test('call_error_test FromExceptionTest.test_from_exc_tb: a builtin keeps its name', (t) => {
  t.is(CallError.fromThrown(new TypeError('x')).type, 'TypeError');
});

test('call_error_test ConstructorTest.test_string_noargs: a message is kept as given (no %-formatting, unlike Mitogen\'s CallError(fmt, *args))', (t) => {
  t.is(new CallError('%s%s').message, '%s%s');
});

test('call_error_test ConstructorTest.test_from_exc: from an exception, "<class>: <message>"', (t) => {
  const e = CallError.fromThrown(new MyError('eek'));
  t.is(e.message, 'MyError: eek');
  t.true(e instanceof CallError);
});

test('call_error_test ConstructorTest.test_from_exc_tb: the remote stack names where it was thrown (in remoteStack, not in the message)', (t) => {
  function throwsHere(): never { throw new MyError('eek'); }
  let caught: unknown;
  try { throwsHere(); } catch (e) { caught = e; }
  const e = CallError.fromThrown(caught);
  t.true(e.message.startsWith('MyError: eek'));
  t.regex(e.remoteStack, /throwsHere/);
});

test('call_error_test (ours): a thrown non-Error is reported as Error with its text', (t) => {
  const e = CallError.fromThrown('a string');
  t.is(e.type, 'Error');
  t.is(e.message, 'Error: a string');
});

test('call_error_test PickleTest.test_from_exc / test_from_exc_tb: a CallError survives the wire with its type, message and remote stack', (t) => {
  function throwsHere(): never { throw new MyError('eek'); }
  let caught: unknown;
  try { throwsHere(); } catch (e) { caught = e; }
  const sent = CallError.fromThrown(caught);
  const back = t.throws(() => new Message({}, Message.encoded(sent).data).decode(), { instanceOf: CallError }) as CallError;
  t.is(back.message, 'MyError: eek');
  t.is(back.type, 'MyError');
  t.regex(back.remoteStack, /throwsHere/);
});
