"""Address handling: what CPython would do with a host, decided without a
lookup.

CPython turns the host of an ``AF_INET``/``AF_INET6`` address tuple into bytes
with ``idna_converter()`` (``Modules/socketmodule.c``) and then calls
``setipaddr()``, which resolves it with libc ``getaddrinfo()``.  This module
mirrors the first step and classifies the host (:func:`classify`: pass
through, literal or name) so that greenfix knows which name CPython would look
up, and leaves every input CPython would reject untouched, so that CPython
raises its own error for it.  No I/O but libc's ``AI_NUMERICHOST`` probe.
"""

from __future__ import absolute_import

import socket

import six

from greenfix.libc import needs_lookup

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
        data = _ascii(host) if type(host) is str else None
        if data is None:
            data = _idna(host)
    else:
        return None
    return _without_nul(data)


def _host_bytes_py2(host):
    # Python 2 parses the host with the "et" format and the "idna" encoding:
    # a str is used as it is, unicode goes through the codec; anything else,
    # a failed encoding or a NUL is a TypeError.
    if isinstance(host, str):
        data = host
    elif isinstance(host, six.text_type):
        data = _idna(host)
    else:
        return None
    return _without_nul(data)


def _ascii(text):
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        return None


def _idna(text):
    try:
        return text.encode("idna")
    except UnicodeError:
        return None


def _without_nul(data):
    """``data``, or None (a TypeError in CPython) if encoding failed or it
    holds a NUL."""
    if data is None or b"\0" in data:
        return None
    return data


#: What :func:`classify` says of a host.
PASS = "pass"          # CPython rejects it, or takes it without getaddrinfo()
LITERAL = "literal"    # numeric: libc answers without a lookup
NAME = "name"          # a lookup: greenfix resolves it


def classify(family, host):
    """What CPython's ``setipaddr()`` would do with ``host`` on a ``family``
    socket: ``(kind, data)`` where ``data`` is :func:`host_bytes` (or None)
    and ``kind`` one of

    :data:`PASS`
        CPython raises before any lookup (wrong type, NUL, IDNA failure), or
        handles the host itself (``""``, ``"<broadcast>"``), or the family
        is not one whose hosts it resolves: the call is handed over
        unchanged, so that CPython does what it does;
    :data:`LITERAL`
        an address libc's ``getaddrinfo()`` takes without consulting the
        name services (``127.1``, ``fe80::1%lo``, the other family's
        literals), or, on Python 2, one its own dotted-quad parser takes
        first: handed over unchanged too, and remembered as such by the hot
        path;
    :data:`NAME`
        a name ``getaddrinfo()`` would look up: greenfix resolves it.

    The only place that decides it: the socket methods' translation and the
    module-level lookups ask here.  The libc question is asked of libc
    itself (:func:`greenfix.libc.needs_lookup`, ``AI_NUMERICHOST``).
    """
    if family not in INET_FAMILIES:
        return PASS, None
    data = host_bytes(host)
    if data is None or data in SPECIAL_HOSTS:
        return PASS, data
    if six.PY2 and scans_as_dotted_quad(data):
        return LITERAL, data
    if not needs_lookup(data, family):
        return LITERAL, data
    return NAME, data


def classify_address(family, address):
    """:func:`classify` for the host of an address tuple; :data:`PASS` for
    any address of another shape than ``getsockaddrarg()`` accepts for the
    family (a tuple of 2 items for IPv4, 2 to 4 for IPv6): CPython raises
    its own error for those before any lookup."""
    if family not in INET_FAMILIES or not isinstance(address, tuple) \
            or not 2 <= len(address) <= MAX_TUPLE_LEN[family]:
        return PASS, None
    return classify(family, address[0])


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
