// Ported from Mitogen's tests/first_stage_test.py: a child that breaks off during the bootstrap.
import test from 'ava';
import { EofError, StreamError } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('first_stage_test ConnectionTest.test_broker_connect_eof_error: a child that reads part of the payload and exits is an EofError', async (t) => {
  const router = routerFor(t);
  // Reads a little of what the parent sends, then dies: the parent sees EOF mid-bootstrap.
  const e = await t.throwsAsync(router.local({ nodePath: ['sh', '-c', 'head -c 10 >/dev/null; echo broke off; exit 1', 'sh'], connectTimeout: 10 }), { instanceOf: EofError });
  t.true(e instanceof StreamError);
  t.regex(e!.message, /broke off/);
});
