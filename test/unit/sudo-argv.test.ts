/** The sudo command line each option becomes (transports/sudo.ts), checked as argv: no process is started. */
import test from 'ava';
import { firstStageArgv } from '../../src/wire/first-stage.js';
import { StreamError } from '../../src/index.js';
import { sudo } from '../../transports/sudo.js';
import type { SudoOptions } from '../../transports/sudo.js';

const common = { remoteName: 'argv-test' };
/** The sudo options, up to the `--` that ends them. */
const optionsOf = (o: SudoOptions): string[] => {
  const argv = sudo.argv(o, common);
  const end = argv.indexOf('--');
  return argv.slice(0, end);
};

test('the option object: username, preserveEnv, setHome, login, selinuxRole and selinuxType become -u, -E, -H, -i, -r and -t', (t) => {
  t.deepEqual(optionsOf({}), ['sudo', '-u', 'root']);
  t.deepEqual(optionsOf({ username: 'bob' }), ['sudo', '-u', 'bob']);
  t.deepEqual(optionsOf({ username: 'bob', preserveEnv: true }), ['sudo', '-u', 'bob', '-E']);
  t.deepEqual(optionsOf({ username: 'bob', setHome: true }), ['sudo', '-u', 'bob', '-H']);
  t.deepEqual(optionsOf({ username: 'bob', login: true }), ['sudo', '-u', 'bob', '-i']);
  t.deepEqual(optionsOf({ username: 'bob', selinuxRole: 'staff_r' }), ['sudo', '-u', 'bob', '-r', 'staff_r']);
  t.deepEqual(optionsOf({ username: 'bob', selinuxType: 'staff_t' }), ['sudo', '-u', 'bob', '-t', 'staff_t']);
  t.deepEqual(optionsOf({ username: 'bob', preserveEnv: true, setHome: true, login: true, selinuxRole: 'r', selinuxType: 'x' }),
    ['sudo', '-u', 'bob', '-E', '-H', '-i', '-r', 'r', '-t', 'x']);
  // false is false, not "present".
  t.deepEqual(optionsOf({ preserveEnv: false, setHome: false, login: false }), ['sudo', '-u', 'root']);
});

test('sudoArgs: short, long, --opt=value, attached and clustered forms mean the same as the option object', (t) => {
  const same = (args: string[], o: SudoOptions): void => { t.deepEqual(optionsOf({ sudoArgs: args }), optionsOf(o), args.join(' ')); };
  same(['-u', 'bob'], { username: 'bob' });
  same(['--user', 'bob'], { username: 'bob' });
  same(['--user=bob'], { username: 'bob' });
  same(['-ubob'], { username: 'bob' });
  same(['-E'], { preserveEnv: true });
  same(['--preserve-env'], { preserveEnv: true });
  same(['-H'], { setHome: true });
  same(['--set-home'], { setHome: true });
  same(['-i'], { login: true });
  same(['--login'], { login: true });
  same(['-r', 'staff_r'], { selinuxRole: 'staff_r' });
  same(['--role=staff_r'], { selinuxRole: 'staff_r' });
  same(['-tstaff_t'], { selinuxType: 'staff_t' });
  same(['--type', 'staff_t'], { selinuxType: 'staff_t' });
  same(['-EHi'], { preserveEnv: true, setHome: true, login: true });
  // The option object wins over sudoArgs.
  t.deepEqual(optionsOf({ username: 'alice', sudoArgs: ['-u', 'bob'] }), ['sudo', '-u', 'alice']);
  t.is(sudo.defaultName!({ sudoArgs: ['-u', 'bob'] }), 'sudo.bob');
});

test('sudoArgs refuses what it does not know, naming it', (t) => {
  t.throws(() => sudo.argv({ sudoArgs: ['-k'] }, common), { instanceOf: StreamError, message: /unsupported sudo option "-k"/ });
  t.throws(() => sudo.argv({ sudoArgs: ['-r'] }, common), { instanceOf: StreamError, message: /-r needs a value/ });
  // sudo's --preserve-env=LIST keeps only LIST: read as a bare -E it would keep everything.
  t.throws(() => sudo.argv({ sudoArgs: ['--preserve-env=PATH'] }, common), { instanceOf: StreamError, message: /unsupported sudo option "--preserve-env=PATH"/ });
});

test('sudoPath as a command, then --, then the first stage; without a PTY the login adds -S', (t) => {
  const argv = sudo.argv({ sudoPath: ['runuser', '-u', 'x', '--', 'sudo'], username: 'bob', nodePath: '/opt/node' }, common);
  t.deepEqual(argv, ['runuser', '-u', 'x', '--', 'sudo', '-u', 'bob', '--', ...firstStageArgv('/opt/node', 'argv-test')]);
  const pipe = sudo.login!({ username: 'bob', password: 'pw' }, common).pipeArgv!;
  t.deepEqual(pipe.slice(0, pipe.indexOf('--')), ['sudo', '-u', 'bob', '-S']);
});
