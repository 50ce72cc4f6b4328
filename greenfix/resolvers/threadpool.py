"""Resolution by libc itself, off the hub: ``getaddrinfo()`` in eventlet's
thread pool.

This gives exactly the system's answer (nsswitch, mDNS, systemd-resolved, the
glibc time budget) at the cost of a native thread per lookup in flight.
"""

from __future__ import absolute_import

import socket

from eventlet import tpool

from greenfix.libc import libc_getaddrinfo
from greenfix.resolvers import Answer, LookupFailed


class ThreadPoolResolver(object):
    """Answers ``resolve(host_bytes, family)`` the way ``setipaddr()`` does:
    ``getaddrinfo(host, NULL, {ai_family=family})``, first result."""

    name = "threadpool"

    def __init__(self, getaddrinfo=libc_getaddrinfo, execute=tpool.execute):
        self._getaddrinfo = getaddrinfo
        self._execute = execute

    def resolve(self, host, family):
        try:
            infos = self._execute(self._getaddrinfo, host, None, family)
        except socket.gaierror as exc:
            raise LookupFailed(exc.errno)
        return Answer(infos[0][4][0], None)

