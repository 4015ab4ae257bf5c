// Ported from Mitogen's tests/router_test.py.
import test from 'ava';
import { MitogenError } from '../../src/index.js';
import { routerFor } from '../helpers.js';

test('router_test AddHandlerTest.test_cannot_double_register: a handle already registered is refused', (t) => {
  const router = routerFor(t);
  const handle = router.addHandler(() => {});
  t.throws(() => router.addHandler(() => {}, { handle }), { instanceOf: MitogenError, message: /cannot register a handle that already exists/ });
});
