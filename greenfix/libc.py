"""libc's own address functions, as they were before eventlet patched them."""

from __future__ import absolute_import

import socket

from eventlet import patcher

# eventlet.monkey_patch() replaces socket.getaddrinfo with greendns'; these are
# the socket module's own functions, which call the C ones of _socket.
original_socket = patcher.original("socket")
libc_getaddrinfo = original_socket.getaddrinfo


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
