"""Shared helpers of the greenfix benchmarks: the test DNS server, timing,
tables.

Every benchmark talks only to loopback: greenfix is always patched with
``resolver="greendns"`` (no fallback to libc),
``nameservers=["127.0.0.1:<port of a tests/dnsserver.py server>"]`` and a
hosts file and resolv.conf of its own, never with the machine's.
"""

from __future__ import absolute_import, division, print_function

import atexit
import contextlib
import gc
import os
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
for _path in (ROOT, os.path.join(ROOT, "tests")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from dnsserver import DNSServer  # noqa: E402

timer = getattr(time, "perf_counter", time.time)

ZONE = "example.test"


def dns_server(records=(), minimum=30):
    """A started tests/dnsserver.py server on 127.0.0.1 with ``records``
    (name, type, value, ttl) and an SOA for example.test."""
    server = DNSServer().start()
    for name, rdtype, value, ttl in records:
        server.add(name, rdtype, value, ttl=ttl)
    server.add_soa(ZONE, minimum=minimum)
    return server


_files = {}


def _private_file(kind, content):
    if kind not in _files:
        handle, path = tempfile.mkstemp(prefix="greenfix-bench-%s-" % kind)
        os.write(handle, content)
        os.close(handle)
        atexit.register(os.unlink, path)
        _files[kind] = path
    return _files[kind]


def hosts_file():
    """A hosts file of our own (localhost only): /etc/hosts plays no part."""
    return _private_file("hosts", b"127.0.0.1 localhost\n::1 localhost\n")


def resolv_conf():
    """A resolv.conf of our own (no search list), so the machine's plays no
    part; the nameservers come from ``patch(nameservers=...)``."""
    return _private_file("resolv.conf", b"nameserver 127.0.0.1\noptions ndots:1\n")


def patch_options(server, **extra):
    """``greenfix.patch()`` options that keep every query on loopback."""
    # resolver="greendns": no fallback to libc (and the machine's resolv.conf).
    options = dict(resolver="greendns", nameservers=["127.0.0.1:%d" % server.port],
                   hosts=hosts_file(), resolv_conf=resolv_conf(),
                   timeout=1, attempts=1)
    options.update(extra)
    return options


@contextlib.contextmanager
def gc_off():
    """The collector off for a timed loop, then as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def time_sendto(sock, data, address, count):
    """Seconds for ``count`` calls of ``sock.sendto(data, address)``, called
    as logging handlers call it (two positional arguments), GC off."""
    sendto = sock.sendto
    rng = range(count)
    with gc_off():
        start = timer()
        for _ in rng:
            sendto(data, address)
        return timer() - start


def time_sendto_fresh(sock, data, host, port, count):
    """Seconds for ``count`` calls of ``sock.sendto(data, (host, port))``,
    a new tuple per call, as metrics and tracing clients build theirs
    (``sock.sendto(data, (self.host, self.port))``), GC off."""
    sendto = sock.sendto
    rng = range(count)
    with gc_off():
        start = timer()
        for _ in rng:
            sendto(data, (host, port))
        return timer() - start


def time_sendto_several(pairs, data, count):
    """Seconds for ``count`` calls ``sendto(data, address)`` going round
    ``pairs`` of (socket, address tuple): several senders, each keeping its
    own tuple (a second ``SysLogHandler`` to the same log host, a pool of
    senders), GC off."""
    calls = [(sock.sendto, address) for sock, address in pairs]
    calls = (calls * (count // len(calls) + 1))[:count]
    with gc_off():
        start = timer()
        for sendto, address in calls:
            sendto(data, address)
        return timer() - start


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2.0


class Table(object):
    """Rows of (what, value, target, ok); printed with PASS/FAIL."""

    def __init__(self, title, method):
        self.title = title
        self.method = method
        self.rows = []

    def add(self, what, value, target="", ok=None):
        self.rows.append((what, value, target, ok))

    @property
    def passed(self):
        return all(ok is not False for _, _, _, ok in self.rows)

    def render(self):
        cells = [("measure", "value", "target", "result")]
        for what, value, target, ok in self.rows:
            verdict = "" if ok is None else ("PASS" if ok else "FAIL")
            cells.append((what, str(value), target, verdict))
        widths = [max(len(row[i]) for row in cells) for i in range(4)]
        rule = "  ".join("-" * width for width in widths)
        lines = ["== %s ==" % self.title]
        lines.extend("   " + line for line in textwrap.dedent(self.method).strip().splitlines())
        lines.append(rule)
        for index, row in enumerate(cells):
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
            if index == 0:
                lines.append(rule)
        lines.append(rule)
        lines.append("%s: %s" % (self.title, "PASS" if self.passed else "FAIL"))
        return "\n".join(lines)
