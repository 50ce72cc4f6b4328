"""Turn the address a caller passes into one the C socket method can take
without looking anything up on the hub thread.

``Translator.translate()`` is on every wrapped call.  It first asks the hot
path (:meth:`greenfix.hotpath.HotTable.translate`: a literal already seen
goes through as it is, a name with a fresh cached answer gets it), and
otherwise ``_translate_slow()``, which classifies the host
(:func:`greenfix.address.classify_address`):

1. addresses CPython would not resolve (other families, wrong shapes, hosts it
   rejects, ``""`` and ``"<broadcast>"``) go through unchanged, so CPython
   raises or handles them itself;
2. hosts libc decides without a lookup (``127.1``, ``fe80::1%lo``, an IPv4
   literal on an IPv6 socket) go through unchanged too, and the hot path
   remembers them;
3. for a name, the rest of the call is first checked the way CPython checks it
   before ``setipaddr()`` (see :func:`check_arguments`), then the name is
   resolved through the answer cache (:mod:`greenfix.cache`: TTLs,
   single-flight, serve-stale) and the backend, cooperatively, and the host
   is replaced by the numeric address.  Port, flowinfo and scope_id stay the
   caller's.
"""

from __future__ import absolute_import

import socket

import _socket
import six

from greenfix import address as addr
from greenfix.cache import Cache
from greenfix.errors import gaierror
from greenfix.resolvers import LookupFailed

_PLACEHOLDER = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}
_probes = {}


def _probe_socket(family):
    sock = _probes.get(family)
    if sock is None:
        # A closed raw socket: its methods parse their arguments exactly as
        # the real ones do, then fail with EBADF instead of doing I/O.
        sock = _socket.socket(family, socket.SOCK_DGRAM)
        sock.close()
        _probes[family] = sock
    return sock


def check_arguments(family, method, args, position):
    """Raise what ``method(*args)`` raises before it would resolve the host.

    CPython parses the whole call (data buffer, flags, tuple shape, port and
    flowinfo types) before ``setipaddr()`` looks the host up, and checks the
    port and flowinfo ranges after.  The same call with a numeric host on a
    closed socket replays the parsing: it reaches the system call (EBADF)
    if the arguments are fine, or raises the error CPython gives first.
    """
    address = args[position]
    probe_args = list(args)
    probe_args[position] = addr.replace_host(address, _PLACEHOLDER[family])
    if method == "sendmsg":
        # sock_sendmsg() parses only "O|OiO" (the flags) before
        # getsockaddrarg(); the buffers and the ancillary data are read after
        # the lookup, so their errors must not pre-empt it.
        probe_args[0] = probe_args[1] = ()
    try:
        getattr(_probe_socket(family), method)(*probe_args)
    except socket.error:
        # The system call was reached, so everything CPython parses first
        # passed: EBADF, or an error the kernel gives before it looks at the
        # descriptor (sendmsg() flags with MSG_CMSG_COMPAT: EINVAL), which the
        # real call gets only after the lookup.
        pass
    except OverflowError as exc:
        # "port must be 0-65535." / "flowinfo must be 0-1048575." are checked
        # after the lookup (getsockaddrarg()), so they must not pre-empt it;
        # but from 3.8 the same port text also reports a port that does not
        # fit the "i" format, raised before the lookup.
        if "must be 0-" not in str(exc) or _port_overflows_int(address):
            raise


#: The C ``int`` that getsockaddrarg()'s "i" format parses the port into.
_INT_MIN, _INT_MAX = -2 ** 31, 2 ** 31 - 1


def _port_overflows_int(address):
    """Whether the port of ``address`` overflows a C int: CPython 3.8+
    (``getsockaddrarg()``) turns that OverflowError of ``PyArg_ParseTuple``
    into ``"%s(): port must be 0-65535."`` before calling ``setipaddr()``."""
    try:
        port = address[1].__index__()
    except (AttributeError, IndexError, TypeError):
        return False
    return not _INT_MIN <= port <= _INT_MAX


class Translator(object):
    """Maps caller addresses to numeric ones through a resolution backend."""

    def __init__(self, resolver, options, green):
        """``options``: the :class:`~greenfix.options.Options` of the cache;
        ``green``: the framework module (:mod:`greenfix.frameworks`)."""
        self.cache = Cache(resolver, options, green)
        #: the hot path's table (:mod:`greenfix.hotpath`)
        self.hot = self.cache.hot
        self._cached = self.hot.translate

    def close(self):
        """Stop the cache's timer and drop its answers (``unpatch()``)."""
        self.cache.close()

    def translate(self, family, args, position, method):
        """The address ``args[position]`` as the C ``method`` should get it."""
        return (self._cached(family, args[position])
                or self._translate_slow(family, args, position, method))

    def _translate_slow(self, family, args, position, method):
        address = args[position]
        kind, host = addr.classify_address(family, address)
        if kind != addr.NAME:
            if kind == addr.LITERAL:
                self.cache.remember_literal(family, address[0])
            return address
        check_arguments(family, method, args, position)
        return addr.replace_host(address, self._lookup(host, family, address[0]))

    def resolve_host(self, family, host):
        """The numeric address ``setipaddr()`` would find for a bare host
        (``gethostbyname``), or None when it needs no lookup or CPython
        rejects it first: then libc can have the host as it is."""
        kind, data = addr.classify(family, host)
        if kind != addr.NAME:
            return None
        return self._lookup(data, family)

    def _lookup(self, host, family, alias=None):
        try:
            return self.cache.lookup(host, family, alias)
        except LookupFailed as failure:
            # The caller sees only what CPython raises, not our plumbing.
            six.raise_from(gaierror(failure.code), None)
