"""libc's own ``getaddrinfo()``: the C function of the ``_socket`` module,
which no framework patches (eventlet and gevent replace ``socket``'s)."""

from __future__ import absolute_import

import socket

import _socket

libc_getaddrinfo = _socket.getaddrinfo


def needs_lookup(host, family):
    """Whether libc's ``getaddrinfo(host, NULL, {ai_family=family})`` would
    consult the name services (hosts file, DNS, ...) for ``host``.

    Asked of libc itself with ``AI_NUMERICHOST``, which never looks anything
    up: EAI_NONAME means "not a literal".  Any other outcome (a literal, or a
    literal of the wrong family, EAI_ADDRFAMILY) is decided by libc without a
    lookup, so the original call can have it.  This accepts exactly the
    literals glibc accepts: ``127.1``, ``0x7f.1``, ``017.0.0.1``,
    ``fe80::1%lo``.
    """
    try:
        libc_getaddrinfo(host, None, family, 0, 0, socket.AI_NUMERICHOST)
    except socket.gaierror as exc:
        return exc.errno == socket.EAI_NONAME
    return False
