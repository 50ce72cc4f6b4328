"""Resolution by libc itself, off the hub: ``getaddrinfo()`` in greenfix's
own lookup pool (:mod:`greenfix.pool`).

This gives exactly the system's answer (nsswitch, mDNS, systemd-resolved, the
glibc time budget) at the cost of a native thread per lookup in flight.
"""

from __future__ import absolute_import

import socket

from greenfix.libc import libc_getaddrinfo
from greenfix.resolvers import Answer, LookupFailed
from greenfix.resolvers.watched import SystemFiles


class ThreadPoolResolver(object):
    """Answers ``resolve(host_bytes, family)`` the way ``setipaddr()`` does:
    ``getaddrinfo(host, NULL, {ai_family=family})``, first result.

    ``pool`` is a :class:`greenfix.pool.LookupPool`; a call from a native
    thread other than the pool's runs libc in that thread."""

    name = "threadpool"

    def __init__(self, pool, getaddrinfo=libc_getaddrinfo):
        self._pool = pool
        self._getaddrinfo = getaddrinfo
        self._files = SystemFiles()

    @property
    def signature(self):
        """Changes when a file libc reads for its answers changes."""
        return self._files.signature

    def resolve(self, host, family):
        try:
            infos = self._pool.run(self._getaddrinfo, host, None, family)
        except socket.gaierror as exc:
            raise LookupFailed(exc.errno)
        return Answer(infos[0][4][0], None)
