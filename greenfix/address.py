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
    rejects, one of the special hosts, or (Python 2) a host its own dotted
    quad parser takes.  Such addresses go to the original method unchanged.
    """
    if family not in INET_FAMILIES or not isinstance(address, tuple):
        return None
    if not 2 <= len(address) <= MAX_TUPLE_LEN[family]:
        return None
    data = host_bytes(address[0])
    if data is None or data in SPECIAL_HOSTS:
        return None
    if six.PY2 and scans_as_dotted_quad(data):
        return None
    return data


_SCANF_SPACE = frozenset(" \t\n\v\f\r")
_DIGITS = frozenset("0123456789")


def scans_as_dotted_quad(data):
    """Whether Python 2's ``setipaddr()`` takes ``data`` as an IPv4 address
    without calling ``getaddrinfo()``.

    Python 2.7 (``Modules/socketmodule.c``) tries ``sscanf(name,
    "%d.%d.%d.%d%c", ...) == 4`` with every field in 0-255 before any
    lookup, for every family: glibc's ``%d`` skips leading white space, takes
    a sign and decimal digits (``strtol``, saturating), stores the value in
    an ``int``; ``%c`` must find nothing left.  So ``"08.0.0.1"``,
    ``"+1.2.3.4"``, ``" 1. 2. 3. 4"`` are literals there (where libc's
    ``getaddrinfo()`` would look them up), and ``"017.0.0.1"`` is 17.0.0.1.
    Python 3 dropped this for ``inet_pton()``.
    """
    text = data.decode("latin-1") if isinstance(data, bytes) and not six.PY2 else data
    pos, end = 0, len(text)
    for field in range(4):
        if field:
            if pos >= end or text[pos] != ".":
                return False
            pos += 1
        while pos < end and text[pos] in _SCANF_SPACE:
            pos += 1
        start = pos
        if pos < end and text[pos] in "+-":
            pos += 1
        digits = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        if pos == digits:
            return False
        value = max(min(int(text[start:pos]), 2 ** 63 - 1), -2 ** 63)
        value = (value + 2 ** 31) % 2 ** 32 - 2 ** 31
        if not 0 <= value <= 255:
            return False
    return pos == end


def replace_host(address, numeric_host):
    """The caller's tuple with its host replaced: port, flowinfo and scope_id
    stay the caller's, as ``getsockaddrarg()`` takes them from the tuple and
    not from the lookup."""
    return (numeric_host,) + tuple(address[1:])
