"""Pure address handling: what CPython would do with a host, decided without I/O.

CPython turns the host of an ``AF_INET``/``AF_INET6`` address tuple into bytes
with ``idna_converter()`` (``Modules/socketmodule.c``) and then calls
``setipaddr()``, which resolves it with libc ``getaddrinfo()``.  This module
mirrors the first step so that greenfix knows which name CPython would look up,
and leaves every input CPython would reject untouched, so that CPython raises
its own error for it.
"""

from __future__ import absolute_import

import socket

import six

#: Families whose addresses carry a host name that CPython may resolve.
INET_FAMILIES = frozenset([socket.AF_INET, socket.AF_INET6])

#: Largest address tuple CPython accepts per family: (host, port) for IPv4,
#: (host, port[, flowinfo[, scope_id]]) for IPv6.
MAX_TUPLE_LEN = {socket.AF_INET: 2, socket.AF_INET6: 4}

#: Hosts ``setipaddr()`` handles itself before any lookup: the empty string
#: (the wildcard, ``getaddrinfo(NULL, "0", AI_PASSIVE)``) and "<broadcast>"
#: (INADDR_BROADCAST).  Neither reaches DNS.
SPECIAL_HOSTS = frozenset([b"", b"<broadcast>"])


def host_bytes(host):
    """Return the bytes CPython would pass to ``setipaddr()``, or None.

    None means CPython rejects the host before any lookup (wrong type, an
    embedded NUL, IDNA encoding failure); the caller should then hand the
    address to the original method unchanged so that CPython raises its own
    error.
    """
    if six.PY2:
        return _host_bytes_py2(host)
    return _host_bytes_py3(host)


def _host_bytes_py3(host):
    # idna_converter(): bytes and bytearray as they are; an exact str that is
    # compact ASCII as it is; any other str (non-ASCII, or a str subclass)
    # through the "idna" codec, TypeError("encoding of hostname failed") when
    # that fails; then a NUL anywhere is a TypeError.
    if isinstance(host, bytes):
        data = host
    elif isinstance(host, bytearray):
        data = bytes(host)
    elif isinstance(host, str):
        data = None
        if type(host) is str:
            try:
                data = host.encode("ascii")
            except UnicodeEncodeError:
                pass
        if data is None:
            try:
                data = host.encode("idna")
            except UnicodeError:
                return None
    else:
        return None
    if b"\0" in data:
        return None
    return data


def _host_bytes_py2(host):
    # Python 2 parses the host with the "et" format and the "idna" encoding:
    # a str is used as it is, unicode goes through the codec; anything else,
    # a failed encoding or a NUL is a TypeError.
    if isinstance(host, str):
        data = host
    elif isinstance(host, six.text_type):
        try:
            data = host.encode("idna")
        except UnicodeError:
            return None
    else:
        return None
    if "\0" in data:
        return None
    return data


def split(family, address):
    """Return the host bytes of an address greenfix may have to resolve.

    Returns None when CPython would not resolve anything for this address:
    another family, not a tuple, a tuple of the wrong length, a host CPython
    rejects, or one of the special hosts.  Such addresses go to the original
    method unchanged.
    """
    if family not in INET_FAMILIES or not isinstance(address, tuple):
        return None
    if not 2 <= len(address) <= MAX_TUPLE_LEN[family]:
        return None
    data = host_bytes(address[0])
    if data is None or data in SPECIAL_HOSTS:
        return None
    return data


def replace_host(address, numeric_host):
    """The caller's tuple with its host replaced: port, flowinfo and scope_id
    stay the caller's, as ``getsockaddrarg()`` takes them from the tuple and
    not from the lookup."""
    return (numeric_host,) + tuple(address[1:])
