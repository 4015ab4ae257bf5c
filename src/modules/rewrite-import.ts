/**
 * Rewrites `import(` in a shipped function's source to `__mitogenImport(`, so
 * dynamic imports go through the module importer (which knows the caller's
 * URL and forwards what the target lacks). Only code is rewritten: string
 * literals, template text, comments and regex literals are copied as they are
 * — a function that builds source code for a Worker keeps its strings intact.
 */
const IDENT = /[\w$]/;
/** After these (or at the start), a `/` begins a regex literal, not a division. */
const REGEX_AFTER = new Set(['', '(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);

export function rewriteDynamicImport(src: string): string {
  let out = '';
  let i = 0;
  let lastSignificant = '';
  const braces: number[] = []; // per open template `${`: the brace depth to return at
  let depth = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    // comments
    if (c === '/' && src[i + 1] === '/') {
      const end = src.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += src.slice(i, stop);
      i = stop;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += src.slice(i, stop);
      i = stop;
      continue;
    }
    // strings
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      lastSignificant = c;
      continue;
    }
    // template text, up to the end or to a `${` whose code we rewrite
    if (c === '`' || (c === '}' && braces.length && braces[braces.length - 1] === depth)) {
      if (c === '}') braces.pop();
      let j = i + 1;
      while (j < n && src[j] !== '`' && !(src[j] === '$' && src[j + 1] === '{')) j += src[j] === '\\' ? 2 : 1;
      if (src[j] === '$') {
        out += src.slice(i, j + 2);
        braces.push(depth);
        i = j + 2;
      } else {
        out += src.slice(i, j + 1);
        i = j + 1;
      }
      lastSignificant = '`';
      continue;
    }
    // regex literals
    if (c === '/' && REGEX_AFTER.has(lastSignificant)) {
      let j = i + 1;
      let inClass = false;
      while (j < n && (inClass || src[j] !== '/') && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j + 1;
      lastSignificant = 'a';
      continue;
    }
    // `import(` as code, not a member (`x.import(`) nor part of a longer name
    if (c === 'i' && src.startsWith('import', i) && !IDENT.test(src[i - 1] ?? '') && src[i - 1] !== '.') {
      let j = i + 6;
      while (j < n && /\s/.test(src[j]!)) j++;
      if (src[j] === '(') {
        out += '__mitogenImport(';
        i = j + 1;
        lastSignificant = '(';
        continue;
      }
    }
    if (c === '{') depth++;
    else if (c === '}') depth--;
    if (!/\s/.test(c)) lastSignificant = IDENT.test(c) ? 'a' : c;
    out += c;
    i++;
  }
  return out;
}
