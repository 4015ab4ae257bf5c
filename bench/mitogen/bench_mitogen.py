#!/usr/bin/python3 -I
"""Mitogen's side of `npm run bench`: one figure per invocation, one JSON line on stdout.

    bench_mitogen.py FIGURE '{"reps": N, "seconds": S, ...}'

FIGURE: boot rtt grand_rtt inflight throughput fanout rss fork ssh ssh2 files files_ssh, or
versions. bench/lib/mitogen.ts passes the same repetition counts and time
limit as mitogen-ts's side; loops stop at `reps` or once `seconds` have
passed (after at least one repetition). Prints {"samples": [...], "unit": U}
or {"error": "..."}.

Called functions are module-level: Mitogen sends functions by module and
name, and serves this module (as __main__) to its children on demand."""
import json
import os
import platform
import sys
import threading
import time

import mitogen
import mitogen.core
import mitogen.master

PY = sys.executable


def noop():
    return None


def pid():
    return os.getpid()


BLOCK = None


def block(n):
    # Made once in the child, then the same bytes every call, as on mitogen-ts's side.
    global BLOCK
    if BLOCK is None or len(BLOCK) != n:
        BLOCK = os.urandom(n)
    return BLOCK


now = time.perf_counter


def rss_mb(p):
    with open('/proc/%d/status' % p) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


class Limits(object):
    """At most `reps` repetitions, and none started after `seconds` (one always runs)."""

    def __init__(self, args):
        self.reps = int(args['reps'])
        self.end = now() + float(args['seconds'])

    def __iter__(self):
        for i in range(self.reps):
            if i and now() > self.end:
                return
            yield i

    def expired(self):
        return now() > self.end


def each_fresh(start, lim, sample):
    """A sample a repetition, each `sample(ctx, t)` from a fresh context
    (`t`: the time just before start()), shut down before the next."""
    out = []
    for _ in lim:
        t = now()
        ctx = start()
        out.append(sample(ctx, t))
        ctx.shutdown(wait=True)
    return out


def to_first_call(ctx, t):
    """ms from `t` (before the start) to the first call's result."""
    ctx.call(noop)
    return (now() - t) * 1e3


def timed_starts(start, lim):
    """One untimed start (as mitogen-ts's side: module caches warm), then each
    start + first call timed, the context shut down before the next."""
    first = start()
    first.call(noop)
    first.shutdown(wait=True)
    return each_fresh(start, lim, to_first_call), 'ms'


def boot(router, args, lim):
    return timed_starts(lambda: router.local(python_path=PY), lim)


def rtt(router, args, lim):
    ctx = router.local(python_path=PY)
    if args.get('via'):
        ctx = router.local(via=ctx, python_path=PY)
    for _ in range(int(args.get('warm_up', 200))):
        ctx.call(noop)
    out = []
    while len(out) < lim.reps and not (out and lim.expired()):
        for _ in range(100):  # in blocks, as mitogen-ts's side
            t = now()
            ctx.call(noop)
            out.append((now() - t) * 1e6)
    return out, 'µs'


def inflight(router, args, lim):
    n = int(args['calls'])
    ctx = router.local(python_path=PY)

    def burst():
        receivers = [ctx.call_async(noop) for _ in range(n)]
        for r in receivers:
            r.get().unpickle()

    for _ in range(int(args.get('warm_up', 1))):  # untimed warm-up bursts, as many as mitogen-ts's side
        burst()
    out = []
    for _ in lim:
        t = now()
        burst()
        out.append(n / (now() - t))
    return out, 'calls/s'


def throughput(router, args, lim):
    k, n = int(args['calls']), 1 << 20
    ctx = router.local(python_path=PY)
    ctx.call(block, n)
    for _ in range(k):  # warm-up, as mitogen-ts's side
        ctx.call(block, n)
    out = []
    for _ in lim:
        t = now()
        for _ in range(k):
            ctx.call(block, n)
        out.append(k * n / (now() - t) / 1e6)
    return out, 'MB/s'


def fanout(router, args, lim):
    # router.local() blocks its caller until the child is up, but Mitogen's
    # broker serves connects from many threads at once (as ansible_mitogen's
    # connection pool does): one thread per child is Mitogen at its most parallel.
    n = int(args['children'])
    out = []
    for _ in lim:
        ctxs, pids, errors = [None] * n, [None] * n, []

        def one(i):
            try:
                c = router.local(python_path=PY)
                pids[i] = c.call(pid)  # the one call (as cheap as noop), and the pid to wait for below
                ctxs[i] = c
            except Exception as e:
                errors.append(e)

        t = now()
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(max(1.0, lim.end + 120 - now()))
        elapsed = now() - t
        if errors or any(c is None for c in ctxs):
            raise RuntimeError('fan-out: %d of %d children failed or hung (%r)' % (
                n - sum(c is not None for c in ctxs), n, errors[:1]))
        out.append(elapsed)
        for c in ctxs:
            c.shutdown()
        wait_gone(pids, 30)  # all gone before the next repetition, as on mitogen-ts's side
    return out, 's'


def wait_gone(pids, timeout):
    end = now() + timeout
    for p in pids:
        while now() < end:
            try:
                with open('/proc/%d/stat' % p) as f:
                    if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
                        break
            except (IOError, OSError):
                break
            time.sleep(0.01)


def rss(router, args, lim):
    def settled_rss(ctx, _):
        p = ctx.call(pid)
        time.sleep(args['settle_ms'] / 1000.0)  # as long as mitogen-ts's side lets its child settle
        return rss_mb(p)
    return each_fresh(lambda: router.local(python_path=PY), lim, settled_rss), 'MiB'


def fork(router, args, lim):
    # Forks of a child context (router.fork(via=...)), as on mitogen-ts's side;
    # forking this master would fork a process whose broker thread is running.
    parent = router.local(python_path=PY)
    parent.call(noop)
    return timed_starts(lambda: router.fork(via=parent), lim)


def ssh(router, args, lim):
    return each_fresh(lambda: router.ssh(python_path='/usr/bin/python3', **args['ssh']), lim, to_first_call), 'ms'


def use_pygments():
    # In the child (python3 -S: no site-packages), so every pygments module is forwarded.
    from pygments import highlight
    from pygments.lexers.python import PythonLexer
    from pygments.formatters.html import HtmlFormatter
    return len(highlight('x = 1', PythonLexer(), HtmlFormatter()))


def wan_import(router, args, lim):
    """The first call importing pygments into a fresh python3 -S context over the delay proxy; ms."""
    def import_ms(ctx, _):
        ctx.call(noop)
        t = now()
        ctx.call(use_pygments)
        return (now() - t) * 1e3
    return each_fresh(lambda: router.ssh(python_path=args['python_path'], **args['ssh']), lim, import_ms), 'ms'


def fetch_file(context, path, out_path):
    # In the child: FileService's own client pulls the file from the master.
    import mitogen.service
    with open(out_path, 'wb') as fp:
        ok, _ = mitogen.service.FileService.get(context, path, fp)
    return ok


def files(router, args, lim):
    """The file mitogen-ts's side made, master -> child with FileService, as putFile; MiB/s."""
    import mitogen.service
    svc = mitogen.service.FileService(router)
    pool = mitogen.service.Pool(router, services=[svc])
    try:
        svc.register(args['path'])
        # Through an ssh hop when asked (the files_ssh figure), else a local child.
        ctx = router.ssh(python_path='/usr/bin/python3', **args['ssh']) if 'ssh' in args else router.local(python_path=PY)
        size = os.path.getsize(args['path'])
        out = []
        for _ in lim:
            t = now()
            if not ctx.call(fetch_file, router.myself(), args['path'], args['dest']):
                raise Exception('FileService.get reported an interrupted transfer')
            out.append(size / (1 << 20) / (now() - t))
            ctx.call(os.unlink, args['dest'])
        return out, 'MiB/s'
    finally:
        pool.stop()

FIGURES = {
    'boot': boot, 'rtt': rtt, 'grand_rtt': rtt, 'inflight': inflight, 'throughput': throughput,
    'fanout': fanout, 'rss': rss, 'fork': fork, 'ssh': ssh, 'files': files,
    # Mitogen has one ssh client: the ssh2 row compares against the same.
    'ssh2': ssh,
    'files_ssh': files,
    'wan_boot': ssh,
    'wan_rxjs': wan_import,
}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + '\n')
    sys.stdout.flush()


def main():
    figure, args = sys.argv[1], json.loads(sys.argv[2])
    if figure == 'versions':
        emit({'python': platform.python_version(), 'mitogen': '.'.join(map(str, mitogen.__version__))})
        return
    broker = mitogen.master.Broker()
    router = mitogen.master.Router(broker)
    try:
        samples, unit = FIGURES[figure](router, args, Limits(args))
        emit({'samples': samples, 'unit': unit})
    except Exception as e:  # reported in the table, not hidden
        emit({'error': '%s: %s' % (type(e).__name__, e)})
    finally:
        # The result is out; a shutdown that hangs must not hold the bench up.
        closer = threading.Thread(target=lambda: (broker.shutdown(), broker.join()), daemon=True)
        closer.start()
        closer.join(30)
    os._exit(0)


if __name__ == '__main__':
    main()
