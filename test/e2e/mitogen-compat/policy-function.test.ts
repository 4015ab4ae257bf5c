// Ported from Mitogen's tests/policy_function_test.py.
import test from 'ava';
import { currentRouter } from '../../../src/index.js';
import { routerFor } from '../../helpers.js';

test('policy_function_test HasParentAuthorityTest.test_okay: this context and its ancestors have authority; others do not', async (t) => {
  const router = routerFor(t);
  const parent = await router.local();
  const child = await router.local({ via: parent });
  const got = await child.call((parentId: number) => {
    const r = currentRouter()!;
    return { self: r.hasParentAuthority(r.myId), parent: r.hasParentAuthority(parentId), master: r.hasParentAuthority(0), stranger: r.hasParentAuthority(5555) };
  }, parent.contextId);
  t.deepEqual(got, { self: true, parent: true, master: true, stranger: false });
  // In the master only itself has authority (Mitogen's test_okay with context_id 5555, parents [111, 222], inverted).
  t.true(router.hasParentAuthority(0));
  t.false(router.hasParentAuthority(child.contextId));
});
