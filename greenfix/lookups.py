"""Module-level lookups (``socket.getaddrinfo``, ``gethostbyname``,
``gethostbyname_ex``) answered like libc's, without blocking the hub.

eventlet routes these to its greendns, whose answers and time budget differ
from the system's (it ignores ``attempts``, keeps dnspython's lifetime: 11 s
to fail where glibc gives up after 2 s; see REFERENCE.md).  greenfix puts
back libc's behaviour for them:

* ``gethostbyname(name)`` is ``setipaddr(name, AF_INET)`` in CPython: the
  first IPv4 address, which is exactly what greenfix's resolver and cache
  answer for the socket methods, so it shares them;
* ``getaddrinfo`` and ``gethostbyname_ex`` return every address, sorted by
  glibc (RFC 6724, ``gai.conf``), with canonical names and aliases; that
  cannot be rebuilt faithfully from DNS answers, so a call that needs a
  lookup runs libc's own function in eventlet's thread pool.  Numeric hosts,
  ``None`` and ``AI_NUMERICHOST`` need none and call libc directly.
"""

from __future__ import absolute_import

import socket

import six
from eventlet import patcher, tpool

from greenfix import address as addr
from greenfix.libc import needs_lookup

_libc = patcher.original("socket")


def _idna(host):
    """What CPython's getaddrinfo() hands libc: str through the "idna" codec
    (any error propagates, as there), bytes as they are."""
    if isinstance(host, bytes):
        return host
    return host.encode("idna")


def make_getaddrinfo():
    libc_getaddrinfo = _libc.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        # Non-string hosts, ports and flags are libc's to reject or accept:
        # only a host that needs a lookup leaves the hub thread.
        if isinstance(host, (bytes, six.text_type)) and not flags & socket.AI_NUMERICHOST:
            try:
                data = _idna(host)
            except UnicodeError:
                data = None
            if data and needs_lookup(data, family):
                return tpool.execute(libc_getaddrinfo, host, port, family, type, proto, flags)
        return libc_getaddrinfo(host, port, family, type, proto, flags)
    return getaddrinfo


def make_gethostbyname_ex():
    libc_gethostbyname_ex = _libc.gethostbyname_ex

    def gethostbyname_ex(hostname):
        data = addr.host_bytes(hostname)
        if data and data not in addr.SPECIAL_HOSTS and needs_lookup(data, socket.AF_INET):
            return tpool.execute(libc_gethostbyname_ex, hostname)
        return libc_gethostbyname_ex(hostname)
    return gethostbyname_ex


def make_gethostbyname(translator):
    libc_gethostbyname = _libc.gethostbyname

    def gethostbyname(hostname):
        # CPython: setipaddr(hostname, AF_INET), then the address as text;
        # the translator does the first half for ("name", 0) tuples.
        numeric = translator.resolve_host(socket.AF_INET, hostname)
        return libc_gethostbyname(hostname if numeric is None else numeric)
    return gethostbyname
