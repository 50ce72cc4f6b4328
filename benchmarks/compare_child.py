"""One configuration of the comparison benchmark (benchmarks/bench_compare.py),
in a process of its own: eventlet and gevent cannot share one.

    python compare_child.py syslog CONFIG PARAMS_JSON
    python compare_child.py cold BACKEND PARAMS_JSON

It runs inside the comparison's network namespace, where libc, eventlet's
greendns, gevent's resolvers and greenfix all read a resolv.conf that names
the test DNS server on 127.0.0.1:53.  It monkey-patches first thing, so it
imports nothing at module level but the standard library, and prints one
JSON line (the last line of its output) for bench_compare.py to read.  The
hub's worst gap is measured by tests/heartbeat.py (tests/ is on PYTHONPATH).
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys
import time

clock = getattr(time, "monotonic", time.time)

#: CONFIG -> (framework, greenfix.patch() or not, log to a pre-resolved IP)
CONFIGS = {
    "eventlet": ("eventlet", False, False),
    "eventlet+greenfix": ("eventlet", True, False),
    "gevent": ("gevent", False, False),
    "gevent+greenfix": ("gevent", True, False),
    "pre-resolved IP": ("eventlet", False, True),
}

#: BACKEND -> (framework or None, greenfix resolver or None, GEVENT_RESOLVER)
BACKENDS = {
    "greenfix greendns": ("eventlet", "greendns", None),
    "greenfix threadpool": ("eventlet", "threadpool", None),
    "greenfix greendns (gevent)": ("gevent", "greendns", None),
    "greenfix threadpool (gevent)": ("gevent", "threadpool", None),
    "libc getaddrinfo": (None, None, None),
    "asyncio loop.getaddrinfo": ("asyncio", None, None),
    "eventlet greendns": ("eventlet", None, None),
    "gevent thread": ("gevent", None, "thread"),
    "gevent dnspython": ("gevent", None, "dnspython"),
    "gevent ares": ("gevent", None, "ares"),
}


class Green(object):
    """spawn / sleep / join of one framework, monkey-patched on creation."""

    def __init__(self, framework):
        self.framework = framework
        if framework == "eventlet":
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")   # eventlet >= 0.36 warns on import
                import eventlet
            eventlet.monkey_patch()
            self.spawn, self.sleep = eventlet.spawn, eventlet.sleep
            self.join = lambda thread: thread.wait()
        else:
            from gevent import monkey
            monkey.patch_all()
            import gevent
            self.spawn, self.sleep = gevent.spawn, gevent.sleep
            self.join = lambda thread: thread.join()


def percentile(values, fraction):
    """The nearest-rank percentile (0 < fraction <= 1) of ``values``."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, int(-(-fraction * len(ordered) // 1)))   # ceil
    return ordered[min(rank, len(ordered)) - 1]


def patch_greenfix(**options):
    """greenfix.patch(), or why not: -> (patched, note)."""
    import warnings
    try:
        import greenfix
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            greenfix.patch(**options)
    except Exception as exc:
        return False, "greenfix.patch() raised %s: %s" % (type(exc).__name__, exc)
    notes = [str(w.message) for w in caught if "greenfix" in str(w.message)]
    return True, "; ".join(notes)


def with_retries(call, tries=20):
    """``call()``, again after a lookup failure (a lost DNS reply while the
    handler is built, outside the measured window)."""
    import socket
    for attempt in range(tries):
        try:
            return call()
        except (socket.gaierror, socket.herror, socket.timeout):
            if attempt == tries - 1:
                raise


def syslog_handler(host, port, pre_resolve):
    """A UDP SysLogHandler to (host, port); to its address looked up once
    here, the usual workaround, with ``pre_resolve``.  Its errors are
    counted instead of printed."""
    import logging.handlers
    import socket
    if pre_resolve:
        host = with_retries(lambda: socket.gethostbyname(host))
    handler = with_retries(lambda: logging.handlers.SysLogHandler(address=(host, port)))
    handler.errors = 0

    def count_error(record):
        handler.errors += 1
    handler.handleError = count_error
    return handler


def emit_records(green, handler, tag, records, interval):
    """``records`` emits ``interval`` apart under a heartbeat -> a dict of
    the emit latencies' p50/p99/max, the worst hub gaps and the errors."""
    import logging
    from heartbeat import Heartbeat
    latencies = []
    with Heartbeat() as beat:
        for index in range(records):
            record = logging.LogRecord("bench", logging.INFO, __file__, 0,
                                       "%s %d", (tag, index), None)
            start = clock()
            handler.emit(record)
            latencies.append(clock() - start)
            green.sleep(interval)
    return {"sent": records, "errors": handler.errors, "gap": beat.gap, "net_gap": beat.net_gap,
            "p50": percentile(latencies, 0.5), "p99": percentile(latencies, 0.99),
            "max": max(latencies)}


def concurrent_senders(green, host, port, senders, pre_resolve):
    """``senders`` green threads each sending one datagram to (host, port)
    at once, on one socket -> the time, the worst hub gap and the errors."""
    import socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    errors = []
    if pre_resolve:   # the workaround looks the name up once, at start
        host = with_retries(lambda: socket.gethostbyname(host))

    def send():
        try:
            sock.sendto(b"x", (host, port))
        except Exception as exc:
            errors.append(type(exc).__name__)
    from heartbeat import Heartbeat
    with Heartbeat() as beat:
        start = clock()
        threads = [green.spawn(send) for _ in range(senders)]
        for thread in threads:
            green.join(thread)
        elapsed = clock() - start
    sock.close()
    return {"senders": senders, "elapsed": elapsed, "gap": beat.gap, "net_gap": beat.net_gap,
            "errors": len(errors)}


def run_syslog(config, params):
    """Every loss level's emits, then the concurrent senders, for CONFIG."""
    framework, with_greenfix, pre_resolve = CONFIGS[config]
    green = Green(framework)
    result = {"config": config, "framework": framework, "greenfix": None, "note": ""}
    if with_greenfix:
        result["greenfix"], result["note"] = patch_greenfix()
    import logging
    logging.raiseExceptions = False
    result["loss"] = {}
    for level in params["levels"]:
        handler = syslog_handler(level["host"], params["receiver_port"], pre_resolve)
        tag = "%s|%s" % (config, level["loss"])
        result["loss"][str(level["loss"])] = emit_records(
            green, handler, tag, params["records"], params["interval"])
        handler.close()
    result["flock"] = concurrent_senders(green, params["flock_host"], params["receiver_port"],
                                         params["senders"], pre_resolve)
    return result


def lookup_function(backend):
    """A blocking ``getaddrinfo(host, port, 0, SOCK_STREAM)`` through
    BACKEND, and a note (why it is not what it says, if so)."""
    framework, resolver, gevent_resolver = BACKENDS[backend]
    if gevent_resolver:
        os.environ["GEVENT_RESOLVER"] = gevent_resolver
    note = ""
    if framework == "asyncio":
        return asyncio_lookup(), note
    if framework is not None:
        Green(framework)
    if resolver:
        patched, note = patch_greenfix(resolver=resolver)
        if not patched:
            raise RuntimeError(note)
    import socket

    def lookup(host):
        return socket.getaddrinfo(host, 80, 0, socket.SOCK_STREAM)
    return lookup, note


def asyncio_lookup():
    """loop.getaddrinfo(): libc getaddrinfo() in the loop's default
    executor (a thread pool)."""
    import asyncio
    import socket
    loop = asyncio.new_event_loop()

    def lookup(host):
        return loop.run_until_complete(loop.getaddrinfo(host, 80, type=socket.SOCK_STREAM))
    return lookup


def run_cold(backend, params):
    """Median and p90 of one lookup per uncached name through BACKEND."""
    lookup, note = lookup_function(backend)
    lookup(params["warm_host"])   # builds the resolver, starts the threads
    latencies = []
    failures = 0
    for host in params["hosts"]:
        start = clock()
        try:
            lookup(host)
        except Exception:
            failures += 1
        latencies.append(clock() - start)
    if "gevent" in sys.modules and BACKENDS[backend][2]:
        import gevent
        note = note or type(gevent.get_hub().resolver).__module__
    return {"backend": backend, "names": len(latencies), "failures": failures, "note": note,
            "median": percentile(latencies, 0.5), "p90": percentile(latencies, 0.9)}


def describe(exc):
    """An exception and those it was raised while handling, innermost last:
    the cause of a failure is often the first of them."""
    parts = []
    while exc is not None and len(parts) < 4:
        part = "%s: %s" % (type(exc).__name__, exc)
        if part not in parts:
            parts.append(part)
        exc = getattr(exc, "__context__", None)
    return " <- while handling ".join(parts)


def main(argv):
    kind, which, params = argv[0], argv[1], json.loads(argv[2])
    try:
        result = run_syslog(which, params) if kind == "syslog" else run_cold(which, params)
    except Exception as exc:
        result = {"error": describe(exc)}
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
