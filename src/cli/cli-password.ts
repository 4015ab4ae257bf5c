/**
 * The become password: asked once on the terminal, without echo, before any
 * target is connected (so a hundred sudo logins share one prompt), or taken
 * from MITOGEN_BECOME_PASSWORD.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { ReadStream } from 'node:tty';
import { UsageError } from './cli-args.js';

/** Reads a line from /dev/tty in raw mode (no echo), so it works with stdin and stdout redirected. */
export function promptHidden(prompt: string): Promise<string> {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch (e) {
    throw new UsageError(`--ask-become-pass needs a terminal (${(e as Error).message}); set MITOGEN_BECOME_PASSWORD instead`);
  }
  const out = openSync('/dev/tty', 'w');
  const input = new ReadStream(fd);
  // Echo off before the prompt shows: whatever is typed after seeing it is never echoed.
  input.setRawMode(true);
  writeSync(out, prompt);
  return new Promise<string>((resolve, reject) => {
    let typed = '';
    const finish = (err?: Error): void => {
      input.off('data', onData);
      input.setRawMode(false);
      input.destroy();
      writeSync(out, '\r\n');
      closeSync(out);
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish();
        if (ch === '\x03' || ch === '\x04') return finish(new UsageError('no become password given (interrupted)'));
        if (ch === '\x7f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch === '\x15') typed = ''; // ^U: kill the line, as a cooked terminal would
        else typed += ch;
      }
    };
    input.on('data', onData);
  });
}

export async function becomePassword(ask: boolean): Promise<string | undefined> {
  if (ask) return promptHidden('become password: ');
  return process.env.MITOGEN_BECOME_PASSWORD;
}
