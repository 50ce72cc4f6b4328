"""Resolution by libc itself, off the hub: ``getaddrinfo()`` in eventlet's
thread pool.

This gives exactly the system's answer (nsswitch, mDNS, systemd-resolved, the
glibc time budget) at the cost of a native thread per lookup in flight.
"""

from __future__ import absolute_import

import socket

from eventlet import patcher, tpool

from greenfix.libc import libc_getaddrinfo
from greenfix.resolvers import Answer, LookupFailed


def start_pool():
    """Start eventlet's thread pool now (idempotent).  Its first use starts
    the worker threads from the hub's thread, which stalls the hub for tens
    of milliseconds: that belongs in ``patch()``, at start-up, not in the
    first lookup of a running service."""
    tpool.setup()


class ThreadPoolResolver(object):
    """Answers ``resolve(host_bytes, family)`` the way ``setipaddr()`` does:
    ``getaddrinfo(host, NULL, {ai_family=family})``, first result."""

    name = "threadpool"

    def __init__(self, getaddrinfo=libc_getaddrinfo, execute=tpool.execute):
        self._getaddrinfo = getaddrinfo
        self._execute = execute
        self._hub_thread = _current_thread()  # patch() runs on the hub's thread
        if execute is tpool.execute:
            start_pool()

    def resolve(self, host, family):
        # tpool.execute() waits on the hub of the thread that set the pool
        # up; from any other native thread (a tpool worker, an unpatched
        # thread) it cannot switch there, and that thread has no hub of its
        # own to keep running anyway: call libc directly.
        run = self._execute if _current_thread() == self._hub_thread else _call
        try:
            infos = run(self._getaddrinfo, host, None, family)
        except socket.gaierror as exc:
            raise LookupFailed(exc.errno)
        return Answer(infos[0][4][0], None)


_current_thread = patcher.original("threading").current_thread


def _call(function, *args):
    return function(*args)
