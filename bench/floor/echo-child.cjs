// The raw-pipe floor's child: plain Node, no library, length-prefixed frames
// (4-byte big-endian length, then the payload) on its stdio.
//   echo-child.cjs          echoes every frame it reads back on stdout.
//   echo-child.cjs source   each frame it reads carries a uint32 N: it answers
//                           with N frames of 1 MiB, as fast as the pipe drains.
'use strict';
const source = process.argv[2] === 'source';
const MiB = 1 << 20;
const block = Buffer.alloc(4 + MiB, 7);
block.writeUInt32BE(MiB, 0);

let owed = 0;
let waiting = false;
function pump() {
  waiting = false;
  while (owed > 0) {
    owed--;
    if (!process.stdout.write(block)) { waiting = true; process.stdout.once('drain', pump); return; }
  }
}

let buf = Buffer.alloc(0);
process.stdin.on('data', (d) => {
  buf = buf.length ? Buffer.concat([buf, d]) : d;
  while (buf.length >= 4) {
    const len = buf.readUInt32BE(0);
    if (buf.length < 4 + len) break;
    if (source) {
      owed += buf.readUInt32BE(4);
      if (!waiting) pump();
    } else {
      process.stdout.write(buf.subarray(0, 4 + len));
    }
    buf = buf.subarray(4 + len);
  }
});
process.stdin.on('end', () => process.exit(0));
