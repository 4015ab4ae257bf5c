// Ported from Mitogen's tests/local_test.py, with a stub node (Mitogen's stub-python.py).
import test from 'ava';
import { routerFor } from '../../helpers.js';
import { envOf, stub } from './stubs.js';

test('local_test ConstructionTest.test_stream_name: local.<pid>', async (t) => {
  const router = routerFor(t);
  const context = await router.local();
  t.is(context.name, `local.${await context.call(() => process.pid)}`);
});

test('local_test ConstructionTest.test_python_path_inherited: the child runs this node', async (t) => {
  const router = routerFor(t);
  const context = await router.local();
  t.is(await context.call(() => process.execPath), process.execPath);
});

test('local_test ConstructionTest.test_python_path_string: nodePath as a string', async (t) => {
  const router = routerFor(t);
  const context = await router.local({ nodePath: stub('node') });
  t.is(await envOf(context, 'THIS_IS_STUB_NODE'), '1');
});

test('local_test ConstructionTest.test_python_path_list: nodePath as an argv list', async (t) => {
  const router = routerFor(t);
  const context = await router.local({ nodePath: [stub('node'), 'magic_first_arg', process.execPath] });
  t.is(await context.call(() => process.execPath), process.execPath);
  t.is(await envOf(context, 'STUB_NODE_FIRST_ARG'), 'magic_first_arg');
  t.is(await envOf(context, 'THIS_IS_STUB_NODE'), '1');
});
