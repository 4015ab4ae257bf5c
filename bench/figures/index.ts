/** Every figure, in the order (the test checks latest.json against this list). */
import type { FigureDef } from '../lib/figure.js';
import { grandRtt, inflight, rtt, throughput } from './calls.js';
import { fanout } from './fanout.js';
import { FAN_FIGURES } from './fanout-hosts.js';
import { files, filesSsh } from './files.js';
import { pool } from './pool.js';
import { ssh, ssh2 } from './ssh.js';
import { boot, fork, rss } from './start.js';
import { wanBoot, wanImports } from './wan-modules.js';
import { wanFiles, wanKib, wanKibSub, wanMemory, wanValues, wanValuesSub } from './wan-streams.js';

export const FIGURES: readonly FigureDef[] = [boot, rtt, grandRtt, inflight, throughput, fanout, rss, fork, pool, ssh, ssh2, files, filesSsh,
  wanBoot, ...wanImports, wanValues, wanValuesSub, wanKib, wanKibSub, wanFiles, wanMemory,
  ...FAN_FIGURES];
