import test from 'ava';
import { rewriteDynamicImport as rw } from '../../src/modules/rewrite-import.js';

test('import( in code goes through the importer', (t) => {
  t.is(rw('async () => (await import("x")).y'), 'async () => (await __mitogenImport("x")).y');
  t.is(rw('() => import ( u )'), '() => __mitogenImport( u )');
  t.is(rw('() => [import(a), import(b)]'), '() => [__mitogenImport(a), __mitogenImport(b)]');
  t.is(rw('() => `${await import(m)}`'), '() => `${await __mitogenImport(m)}`');
});

test('strings, template text, comments, regexes, members and longer names are left alone', (t) => {
  const cases = [
    `() => "import(x)"`,
    `() => 'import(x)' + "it's \\"import(\\""`,
    '() => `import(${1}) and import(x)`',
    '() => { // import(x)\n return 1; }',
    '() => { /* import(x) */ return 1; }',
    '() => /import\\(x\\)/.test(s)',
    '() => obj.import(x)',
    '() => reimport(x)',
    '() => { const important = 1; return important; }',
  ];
  for (const c of cases) t.is(rw(c), c, c);
});

test('code inside ${} of a template is rewritten; nested templates and braces keep their place', (t) => {
  t.is(rw('() => `a ${ {k: 1}.k } b ${ import(x) } c`'), '() => `a ${ {k: 1}.k } b ${ __mitogenImport(x) } c`');
  t.is(rw('() => `o ${`i ${import(y)} i`} o`'), '() => `o ${`i ${__mitogenImport(y)} i`} o`');
  t.is(rw('(a) => a / 2 / import(z)'), '(a) => a / 2 / __mitogenImport(z)');
});
