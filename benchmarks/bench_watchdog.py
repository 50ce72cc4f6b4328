"""The hub watchdog's cost when nothing blocks, side by side with no watchdog.

* idle CPU: process CPU time over idle stretches of the hub (green sleep),
  with the watchdog at its default threshold and without, interleaved;
  target: the difference under 1% of one core;
* hot path: ``sendto`` to a cached name (greenfix patched), rounds with the
  watchdog running and without, interleaved; target: the median of the
  per-round ratios <= 1.03 (no measurable change).

Needs ``eventlet.monkey_patch()`` first (benchmarks/run.py does it).
"""

from __future__ import absolute_import, division, print_function

import resource
import socket
import time

import eventlet

import greenfix
from greenfix import watchdog

from benchmarks import common

CPU_TARGET = 0.01        # of one core
HOTPATH_TARGET = 1.03
NAME = "svc.example.test"
ADDRESS = "127.0.0.1"


def _cpu_seconds():
    # time.process_time is Python 3.3+; getrusage elsewhere.
    process_time = getattr(time, "process_time", None)
    if process_time is not None:
        return process_time()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _idle_cpu(seconds, with_watchdog):
    """CPU seconds per wall second while the hub idles ``seconds``."""
    if with_watchdog:
        watchdog.start()
    try:
        wall, cpu = common.timer(), _cpu_seconds()
        eventlet.sleep(seconds)
        return (_cpu_seconds() - cpu) / (common.timer() - wall)
    finally:
        if with_watchdog:
            watchdog.stop()


def measure_idle(seconds=2.0, rounds=3):
    """Median idle CPU share (of one core) without and with the watchdog."""
    off, on = [], []
    for index in range(rounds):
        order = [(off, False), (on, True)]
        for samples, flag in (order if index % 2 == 0 else order[::-1]):
            samples.append(_idle_cpu(seconds, flag))
    return common.median(off), common.median(on)


def measure_hotpath(calls=200, rounds=201):
    """Median of per-round ratios: sendto with the watchdog / without."""
    server = common.dns_server([(NAME, "A", ADDRESS, 60)])
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind((ADDRESS, 0))
    receiver.setblocking(False)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = (NAME, receiver.getsockname()[1])
    greenfix.patch(**common.patch_options(server))
    ratios = []
    try:
        sender.sendto(b"x", address)   # warm the cache
        for index in range(rounds):
            sample = {}
            for flag in ((False, True) if index % 2 == 0 else (True, False)):
                if flag:
                    watchdog.start()
                # both variants: let the hub run and a new monitor thread
                # reach its wait, so that its start-up is not what we time
                eventlet.sleep(0.01)
                sample[flag] = common.time_sendto(sender, b"x", address, calls)
                if flag:
                    watchdog.stop()
                _drain(receiver)
            ratios.append(sample[True] / sample[False])
    finally:
        greenfix.unpatch()
        server.stop()
        receiver.close()
        sender.close()
    return common.median(ratios)


def _drain(sock):
    try:
        while True:
            sock.recv(64)
    except socket.error:
        pass


def run(rounds=201):
    table = common.Table(
        "watchdog cost",
        """
        Idle: process CPU per wall second while the hub sleeps, watchdog at the
        default threshold (%.0f ms) vs none, interleaved.  Hot path: sendto to a
        cached name, watchdog running vs not, median of per-round ratios.
        """ % (watchdog.DEFAULT_THRESHOLD * 1000))
    off, on = measure_idle()
    table.add("idle CPU, no watchdog", "%.3f%%" % (off * 100))
    table.add("idle CPU, watchdog", "%.3f%%" % (on * 100))
    table.add("watchdog's idle cost (of one core)", "%.3f%%" % ((on - off) * 100),
              "< %.0f%%" % (CPU_TARGET * 100), on - off < CPU_TARGET)
    ratio = measure_hotpath(rounds=rounds)
    table.add("sendto, watchdog / none", "%.3fx" % ratio, "<= %.2fx" % HOTPATH_TARGET,
              ratio <= HOTPATH_TARGET)
    return table
