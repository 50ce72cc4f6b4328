"""A green heartbeat: how long the hub (eventlet's or gevent's: the one that
monkey-patched the process) stood still during a call.

A green thread ticks every millisecond; the worst gap between ticks while the
call ran is how long the hub was kept from switching.  On a busy machine the
hub thread may also wait for a CPU: that wait is read from
``/proc/thread-self/schedstat`` (time runnable but not running) and reported
apart, so that ``net_gap`` counts only time the hub was really held, by a
blocking call or by CPU work on it.  A thread blocked in libc's
``getaddrinfo()`` is asleep, not runnable, so a real freeze stays in full in
``net_gap``.
"""

from __future__ import absolute_import

import os
import sys
import time

clock = getattr(time, "monotonic", time.time)


def green():
    """(spawn, sleep) of the framework that monkey-patched this process:
    gevent where it did, else eventlet.  ``spawn`` returns an object with
    ``wait()``."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        import gevent
        def spawn(function):
            greenlet = gevent.spawn(function)
            greenlet.wait = greenlet.join
            return greenlet
        return spawn, gevent.sleep
    import eventlet
    return eventlet.spawn, eventlet.sleep


class RunQueueWait(object):
    """Seconds the calling thread has spent runnable but waiting for a CPU;
    always 0 where the kernel does not say."""

    def __init__(self):
        try:
            self._fd = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            self._fd = None

    def __call__(self):
        if self._fd is None:
            return 0.0
        os.lseek(self._fd, 0, 0)
        return int(os.read(self._fd, 200).split()[1]) / 1e9

    @staticmethod
    def process():
        """The same, summed over every thread of the process."""
        total = 0
        try:
            tasks = os.listdir("/proc/self/task")
        except OSError:
            return 0.0
        for task in tasks:
            try:
                with open("/proc/self/task/%s/schedstat" % task) as handle:
                    total += int(handle.read().split()[1])
            except (IOError, OSError, IndexError, ValueError):
                continue
        return total / 1e9


run_queue_wait = RunQueueWait()


class Heartbeat(object):
    """``with Heartbeat() as beat: call()``, then ``beat.gap`` (worst raw gap,
    seconds), ``beat.net_gap`` (net of CPU waits) and ``beat.duration``."""

    def __init__(self, interval=0.001):
        self.interval = interval
        self.gap = self.net_gap = self.duration = None
        self._ticks = []
        self._running = False
        self._thread = None

    def _beat(self):
        while self._running:
            self._ticks.append((clock(), run_queue_wait()))
            self._sleep(self.interval)

    def __enter__(self):
        spawn, self._sleep = green()
        self._running = True
        self._thread = spawn(self._beat)
        self._sleep(0.005)
        self._start = (clock(), run_queue_wait())
        return self

    def __exit__(self, *exc_info):
        end = clock()
        self.duration = end - self._start[0]
        self._sleep(self.interval * 3)
        self._running = False
        self._thread.wait()
        during = [t for t in self._ticks if self._start[0] < t[0] <= end]
        after = [t for t in self._ticks if t[0] > end][:1]
        points = [self._start] + during + after
        if len(points) < 2:
            points.append((end, run_queue_wait()))
        gaps = [(b[0] - a[0], (b[0] - a[0]) - (b[1] - a[1])) for a, b in zip(points, points[1:])]
        self.gap = max(raw for raw, _ in gaps)
        self.net_gap = max(net for _, net in gaps)
        return False
