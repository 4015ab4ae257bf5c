#!/usr/bin/python3 -I
"""Mitogen's side of `npm run bench`: one figure per invocation, printed as JSON.

    bench_mitogen.py FIGURE REPS [ARG]

FIGURE: boot rtt grand_rtt inflight throughput fanout rss fork ssh.
Each figure prints {"samples": [...], "unit": "..."} (or {"error": "..."}).
Functions are module-level so Mitogen can import them in its children."""
import json
import os
import sys
import time

import mitogen.core
import mitogen.master
import mitogen.utils


def noop():
    return None


def pid():
    return os.getpid()


BLOCK = None


def block(n):
    # The same buffer each call, as mitogen-ts's figure does.
    global BLOCK
    if BLOCK is None or len(BLOCK) != n:
        BLOCK = os.urandom(n)
    return BLOCK


def now():
    return time.perf_counter()


def rss_mb(p):
    with open('/proc/%d/status' % p) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024.0
    return float('nan')


def timed_calls(ctx, reps):
    for _ in range(min(200, reps)):
        ctx.call(noop)
    out = []
    for _ in range(reps):
        t = now()
        ctx.call(noop)
        out.append((now() - t) * 1e6)
    return out


def run(router, figure, reps, arg):
    if figure == 'boot':
        out = []
        for _ in range(reps):
            t = now()
            ctx = router.local(python_path=sys.executable)
            ctx.call(noop)
            out.append((now() - t) * 1e3)
            ctx.shutdown(wait=True)
        return out, 'ms'
    if figure == 'rtt':
        return timed_calls(router.local(python_path=sys.executable), reps), 'us'
    if figure == 'grand_rtt':
        child = router.local(python_path=sys.executable)
        return timed_calls(router.local(via=child, python_path=sys.executable), reps), 'us'
    if figure == 'inflight':
        ctx = router.local(python_path=sys.executable)
        ctx.call(noop)
        out = []
        for _ in range(reps):
            n = 10000
            t = now()
            recvs = [ctx.call_async(noop) for _ in range(n)]
            for r in recvs:
                r.get().unpickle()
            out.append(n / (now() - t))
        return out, 'calls/s'
    if figure == 'throughput':
        ctx = router.local(python_path=sys.executable)
        n = 1 << 20
        ctx.call(block, n)
        out = []
        for _ in range(reps):
            k = 20
            t = now()
            for _ in range(k):
                ctx.call(block, n)
            out.append(k * n / (now() - t) / 1e6)
        return out, 'MB/s'
    if figure == 'fanout':
        # Mitogen connects one context at a time (router.local blocks), as its users do.
        out = []
        for _ in range(reps):
            t = now()
            ctxs = [router.local(python_path=sys.executable) for _ in range(int(arg or 50))]
            for c in ctxs:
                c.call(noop)
            out.append(now() - t)
            # Not shutdown(wait=True) per context: on Mitogen 0.3 that can block
            # forever; the broker's own shutdown at exit reaps them.
            for c in ctxs:
                c.shutdown()
        return out, 's'
    if figure == 'rss':
        out = []
        for _ in range(reps):
            ctx = router.local(python_path=sys.executable)
            p = ctx.call(pid)
            time.sleep(0.2)  # let the child settle before reading its RSS
            out.append(rss_mb(p))
            ctx.shutdown(wait=True)
        return out, 'MB'
    if figure == 'fork':
        parent = router.local(python_path=sys.executable)
        parent.call(noop)
        out = []
        for _ in range(reps):
            t = now()
            ctx = router.fork(via=parent)
            ctx.call(noop)
            out.append((now() - t) * 1e3)
            ctx.shutdown(wait=True)
        return out, 'ms'
    if figure == 'ssh':
        spec = json.loads(arg)
        out = []
        for _ in range(reps):
            t = now()
            ctx = router.ssh(python_path='/usr/bin/python3', **spec)
            ctx.call(noop)
            out.append((now() - t) * 1e3)
            ctx.shutdown(wait=True)
        return out, 'ms'
    raise ValueError('unknown figure %r' % figure)


def main():
    figure, reps = sys.argv[1], int(sys.argv[2])
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    broker = mitogen.master.Broker()
    router = mitogen.master.Router(broker)
    try:
        samples, unit = run(router, figure, reps, arg)
        print(json.dumps({'samples': samples, 'unit': unit}))
    except Exception as e:  # reported, not hidden: the table shows it
        print(json.dumps({'error': '%s: %s' % (type(e).__name__, e)}))
    finally:
        broker.shutdown()
        broker.join()


if __name__ == '__main__':
    main()
