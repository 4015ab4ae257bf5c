// The raw-pipe floor: a node child that echoes length-prefixed frames on its stdio,
// or (argv[2] = 'source N') writes N frames of 1 MiB as fast as the pipe takes them.
const mode = process.argv[2];
if (mode === 'source') {
  const n = Number(process.argv[3]);
  const frame = Buffer.alloc(4 + (1 << 20), 7);
  frame.writeUInt32BE(1 << 20, 0);
  let sent = 0;
  const pump = () => { while (sent < n) { sent++; if (!process.stdout.write(frame)) { process.stdout.once('drain', pump); return; } } };
  process.stdin.once('data', pump);
} else {
  let buf = Buffer.alloc(0);
  process.stdin.on('data', (d) => {
    buf = buf.length ? Buffer.concat([buf, d]) : d;
    while (buf.length >= 4) {
      const len = buf.readUInt32BE(0);
      if (buf.length < 4 + len) break;
      process.stdout.write(buf.subarray(0, 4 + len));
      buf = buf.subarray(4 + len);
    }
  });
}
