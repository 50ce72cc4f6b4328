"""Child process of tests/test_watchdog.py: one framework, one scenario.

    python watchdog_child.py FRAMEWORK SCENARIO [patch]

FRAMEWORK is "eventlet" or "gevent" (monkey-patched first thing, so the
two never mix in one process), or "eventlet-unpatched" (imported, not
monkey-patched).  The last line of stdout is a JSON object with what the
scenario saw; times are seconds since the blocking call began.
"""

from __future__ import print_function

import json
import logging
import os
import sys
import time
import warnings

FRAMEWORK, SCENARIO = sys.argv[1], sys.argv[2]
warnings.simplefilter("ignore")

if SCENARIO == "sendto_name":
    import dnsserver   # its threads come from eventlet's original modules: import first
if FRAMEWORK == "gevent":
    from gevent import monkey
    monkey.patch_all()
    import gevent

    class original_time(object):   # reached as original_time.sleep, like eventlet's
        sleep = staticmethod(monkey.get_original("time", "sleep"))
    original_socket_class = monkey.get_original("socket", "socket")
    green_sleep = gevent.sleep
else:
    import eventlet
    import eventlet.patcher
    if FRAMEWORK == "eventlet":
        eventlet.monkey_patch()
    original_time = eventlet.patcher.original("time")
    original_socket_class = eventlet.patcher.original("socket").socket
    green_sleep = eventlet.sleep
import greenfix  # noqa: E402
from greenfix import watchdog  # noqa: E402

T0 = [None]


def since():
    return time.time() - T0[0] if T0[0] is not None else None


class Recorder(logging.Handler):
    """Notes when each record arrives and its message."""

    def __init__(self):
        logging.Handler.__init__(self)
        self.seen = []

    def emit(self, record):
        self.seen.append({"at": since(), "message": record.getMessage()})


def watched_logger(native):
    logger = logging.getLogger("greenfix.watchdog")
    logger.setLevel(logging.INFO)
    green = Recorder()
    logger.addHandler(green)
    handlers = {"green": green}
    if native:
        handlers["native"] = watchdog.use_native_lock(Recorder())
        logger.addHandler(handlers["native"])
    return handlers


def block_then_settle(block):
    green_sleep(0.2)
    T0[0] = time.time()
    outcome = block()
    returned = since()
    green_sleep(0.3)
    return returned, outcome


def watchdog_stats():
    """greenfix.stats()["watchdog"]; under gevent watchdog.stats() (greenfix's
    answer cache is eventlet's, not to be imported into a gevent process)."""
    return watchdog.stats() if FRAMEWORK == "gevent" else greenfix.stats()["watchdog"]


def scenario_time_sleep():
    watchdog_stats()   # imports what it needs before the watched part
    handlers = watched_logger(native=True)
    calls = []
    watchdog.start(0.1, callback=lambda block: calls.append(
        {"at": since(), "ended": block.ended, "duration": block.duration}))

    def block():
        original_time.sleep(0.3)
    returned, _ = block_then_settle(block)
    result = {"returned": returned, "callback": calls, "stats": watchdog_stats()}
    watchdog.stop()
    result.update((name, handler.seen) for name, handler in handlers.items())
    return result


def scenario_stderr_only():
    watchdog.start(0.1)   # no handler anywhere: stderr gets the report
    returned, _ = block_then_settle(lambda: original_time.sleep(0.3))
    watchdog.stop()
    return {"returned": returned}


class HoldsLockWhileBlocking(logging.Handler):
    """A green-locked handler whose emit blocks the hub while holding its
    lock (a SysLogHandler resolving its host in sendto)."""

    def __init__(self):
        logging.Handler.__init__(self)
        self.seen = []

    def emit(self, record):
        if record.getMessage() == "block here":
            original_time.sleep(0.3)
        else:
            self.seen.append({"at": since(), "message": record.getMessage()})


def scenario_green_lock_held():
    holder = HoldsLockWhileBlocking()
    logging.getLogger("greenfix.watchdog").addHandler(holder)
    logging.getLogger("greenfix.watchdog").setLevel(logging.INFO)
    watchdog.start(0.1)
    returned, _ = block_then_settle(
        lambda: logging.getLogger("greenfix.watchdog").warning("block here"))
    watchdog.stop()
    return {"returned": returned, "green": holder.seen,
            "lock_type": type(holder.lock).__name__}


def scenario_sendto_name():
    server = dnsserver.DNSServer(port=53).start()
    server.set_behavior("drop")
    handlers = watched_logger(native=True)
    watchdog.start(0.1)
    sock = original_socket_class(2, 2)   # AF_INET, SOCK_DGRAM: the unpatched class

    def block():
        try:
            sock.sendto(b"x", ("blackholed.example.test", 9))
        except Exception as exc:
            return type(exc).__name__
    returned, outcome = block_then_settle(block)
    watchdog.stop()
    result = {"returned": returned, "outcome": outcome, "queries": server.count()}
    result.update((name, handler.seen) for name, handler in handlers.items())
    server.stop()
    return result


def task_count():
    return len(os.listdir("/proc/self/task"))


def scenario_threads():
    before = task_count()
    watchdog.start(0.05)
    green_sleep(0.1)
    running = task_count()
    watchdog.stop()
    deadline = time.time() + 2
    while task_count() > before and time.time() < deadline:
        original_time.sleep(0.01)
    return {"before": before, "running": running, "after": task_count(),
            "is_running": watchdog.is_running()}


def scenario_no_block():
    result = {}
    try:
        with watchdog.no_block(50):
            original_time.sleep(0.2)
        result["blocking"] = None
    except watchdog.HubBlocked as exc:
        result["blocking"] = str(exc)
    with watchdog.no_block(50):
        for _ in range(30):
            green_sleep(0.01)
    result["green"] = "passed"
    return result


def scenario_idle():
    """Nothing blocks: no block may be reported."""
    handlers = watched_logger(native=True)
    watchdog.start(0.1)
    for _ in range(50):
        green_sleep(0.01)
    green_sleep(0.5)
    result = {"stats": watchdog.stats()}
    watchdog.stop()
    result.update((name, handler.seen) for name, handler in handlers.items())
    return result


def scenario_environment():
    from greenfix import GreenfixError
    try:
        greenfix.patch(resolver="greendns", nameservers=["127.0.0.1:9"])
    except GreenfixError as exc:
        return {"error": str(exc), "patched": greenfix.is_patched(),
                "running": watchdog.is_running()}
    result = {"patched": greenfix.is_patched(), "running": watchdog.is_running(),
              "stats": greenfix.stats()["watchdog"]}
    greenfix.unpatch()
    watchdog.stop()
    return result


def main():
    result = globals()["scenario_" + SCENARIO]()
    sys.stdout.flush()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
