/**
 * The bootstrap parser over bytes alone: what it reports for each way a
 * child's stdout may arrive, with no process behind it.
 */
import test from 'ava';
import { BootstrapParser, MAX_PRELUDE_LINE } from '../../actors/bootstrap/bootstrap-parser.js';
import type { BootstrapEvent } from '../../actors/bootstrap/bootstrap-parser.js';

/** The events as plain values, `rest` as text, for deepEqual. */
type Plain = Exclude<BootstrapEvent, { kind: 'booted' }> | { kind: 'booted'; rest: string };
const plain = (events: BootstrapEvent[]): Plain[] =>
  events.map((e) => (e.kind === 'booted' ? { kind: 'booted', rest: e.rest.toString('latin1') } : e));

/** Feeds the chunks in turn, then (with `end`) ends the output, and returns every event reported. */
function run(chunks: Buffer[], end = false): { events: Plain[]; parser: BootstrapParser } {
  const parser = new BootstrapParser();
  const events = chunks.flatMap((c) => plain(parser.feed(c)));
  if (end) events.push(...plain(parser.end()));
  return { events, parser };
}

const frames = Buffer.from([0, 0, 0, 5, 0x0a, 0xff, 0x4d, 0x0a, 0x00]);
const whole = Buffer.concat([Buffer.from('MITO000\nMITO001\nMITO002\n'), frames]);

test('markers in one chunk with frame bytes behind them: each stage, then the frames, byte for byte', (t) => {
  const { events, parser } = run([whole]);
  t.deepEqual(events, [
    { kind: 'stage', stage: 1 },
    { kind: 'stage', stage: 2 },
    { kind: 'booted', rest: frames.toString('latin1') },
  ]);
  t.is(parser.stage, 3);
  t.is(parser.lastLines(), '');
});

test('split at every byte boundary, and byte by byte: the same stages, and exactly the frame bytes of the chunk that ended MITO002', (t) => {
  const markersEnd = whole.length - frames.length;
  for (let i = 0; i <= whole.length; i++) {
    const parser = new BootstrapParser();
    const events = [...parser.feed(whole.subarray(0, i)), ...parser.feed(whole.subarray(i))];
    // Once MITO002 is read, later chunks are the stream's: the parser reports none of them.
    const rest = i < markersEnd ? frames : whole.subarray(markersEnd, i);
    t.deepEqual(plain(events), [
      { kind: 'stage', stage: 1 }, { kind: 'stage', stage: 2 }, { kind: 'booted', rest: rest.toString('latin1') },
    ], `split at ${i}`);
  }
  const parser = new BootstrapParser();
  const events: BootstrapEvent[] = [];
  for (let i = 0; i < whole.length; i++) events.push(...parser.feed(whole.subarray(i, i + 1)));
  t.deepEqual(plain(events), [{ kind: 'stage', stage: 1 }, { kind: 'stage', stage: 2 }, { kind: 'booted', rest: '' }]);
  t.deepEqual(parser.feed(Buffer.from('more')), [], 'once booted, later bytes are not the parser\'s');
});

test('garbage before a marker is reported line by line and kept for errors; CRLF is a newline', (t) => {
  const { events, parser } = run([Buffer.from('Welcome!\r\nlast login: x\nMIT'), Buffer.from('O000\nMITO0001\nMITO001\n')]);
  t.deepEqual(events, [
    { kind: 'line', line: 'Welcome!' },
    { kind: 'line', line: 'last login: x' },
    { kind: 'stage', stage: 1 },
    { kind: 'line', line: 'MITO0001' },
    { kind: 'stage', stage: 2 },
  ]);
  t.is(parser.stage, 2);
  t.is(parser.lastLines(), 'Welcome!\nlast login: x\nMITO0001');
});

test('an interpreter too old says its version: reported, and nothing after it is read', (t) => {
  const { events, parser } = run([Buffer.from('MITOVER v16.20.2\nMITO000\n')], true);
  t.deepEqual(events, [{ kind: 'too-old', version: 'v16.20.2' }]);
  t.is(parser.stage, 0);
});

test('a stream that ends early reports the stage reached; an unfinished line is not a line', (t) => {
  const { events, parser } = run([Buffer.from('sudo: a password is required\nMITO000\nhalf a li')], true);
  t.deepEqual(events, [
    { kind: 'line', line: 'sudo: a password is required' },
    { kind: 'stage', stage: 1 },
    { kind: 'eof', stage: 1 },
  ]);
  t.is(parser.lastLines(), 'sudo: a password is required');
  t.deepEqual(parser.end(), [], 'the end is reported once');
  t.deepEqual(run([], true).events, [{ kind: 'eof', stage: 0 }], 'nothing at all: stage 0');
  t.deepEqual(run([whole], true).events.slice(-1), [{ kind: 'booted', rest: frames.toString('latin1') }], 'after MITO002 the end is the stream\'s');
});

test('a long line with no newline is kept as one line, shortened, so the buffer stays bounded', (t) => {
  const { events, parser } = run([Buffer.alloc(MAX_PRELUDE_LINE, 'x'), Buffer.from('y'), Buffer.from('z\nMITO000\n')]);
  const shown = `${'x'.repeat(200)}... (${MAX_PRELUDE_LINE + 1} bytes with no newline)`;
  // At the limit exactly it still waits for a newline; one byte more and it is cut, the rest of the line a line of its own.
  t.deepEqual(events, [{ kind: 'line', line: shown }, { kind: 'line', line: 'z' }, { kind: 'stage', stage: 1 }]);
  t.is(parser.lastLines(), `${shown}\nz`);
});
