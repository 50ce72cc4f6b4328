"""Turn the address a caller passes into one the C socket method can take
without looking anything up on the hub thread.

``Translator.translate()`` is on every wrapped call, so its first lines are
the hot path: one type check and one dict lookup (the cache's ``fast`` view)
either return a literal host already seen as it is, or, for a name whose
cached answer is fresh (one comparison with the cache clock), the caller's
tuple with the cached address.  Everything else goes through
``_translate_slow()``:

1. addresses CPython would not resolve (other families, wrong shapes, hosts it
   rejects, ``""`` and ``"<broadcast>"``) go through unchanged, so CPython
   raises or handles them itself;
2. hosts libc decides without a lookup (``127.1``, ``fe80::1%lo``, an IPv4
   literal on an IPv6 socket) go through unchanged too;
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
from greenfix.cache import Cache, clock as _clock
from greenfix.errors import gaierror
from greenfix.libc import needs_lookup
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


def _py2_dotted_quad(address):
    if type(address) is not tuple or not address:
        return False
    data = addr.host_bytes(address[0])
    return data is not None and addr.scans_as_dotted_quad(data)


class Translator(object):
    """Maps caller addresses to numeric ones through a resolution backend."""

    def __init__(self, resolver, options=None):
        """``options``: an :class:`~greenfix.options.Options` for the cache
        (None: the defaults)."""
        self.resolver = resolver
        self.cache = Cache(resolver, options)
        self._fast = self.cache.fast

    def close(self):
        """Stop the cache's timer and drop its answers (``unpatch()``)."""
        self.cache.close()

    @property
    def literals(self):
        """The hot path's table for IPv4 sockets: IP literals map to None
        (for any family: see ``patchers.eventlet._literal_first``)."""
        return self._fast[socket.AF_INET]

    def cached(self, family, address):
        """The hot path: ``address`` for an IP literal already seen, the
        cached numeric address for a fresh cached name; None otherwise."""
        try:
            if type(address) is tuple:
                hit = self._fast[family][address[0]]
                if hit is None:  # an IP literal
                    return address
                # A fresh cached answer, for a host of exactly the type that
                # CPython uses as it is: a str subclass (or unicode on Python
                # 2) that compares equal goes through the "idna" codec there,
                # which may reject it, so it takes the slow path.
                if hit.expires > _clock() and type(address[0]) is str:
                    hit.hits += 1
                    memo = hit.memo  # the last tuple translated (loggers reuse theirs)
                    if memo[0] is address:
                        return memo[1]
                    return (hit.address,) + address[1:]
        except (KeyError, IndexError, TypeError):
            pass
        return None

    def translate(self, family, args, position, method):
        """The address ``args[position]`` as the C ``method`` should get it."""
        return (self.cached(family, args[position])
                or self._translate_slow(family, args, position, method))

    def _translate_slow(self, family, args, position, method):
        address = args[position]
        host = addr.split(family, address)
        if host is None:
            if six.PY2 and _py2_dotted_quad(address):
                # Python 2 takes it without a lookup, whatever the tuple:
                # let the hot path pass it through too.
                self.cache.remember_literal(family, address[0])
            return address
        if not needs_lookup(host, family):
            self.cache.remember_literal(family, address[0])
            return address
        check_arguments(family, method, args, position)
        translated = addr.replace_host(address, self._lookup(host, family, address[0]))
        self.cache.memo(family, address, translated)
        return translated

    def resolve_host(self, family, host):
        """The numeric address ``setipaddr()`` would find for a bare host
        (``gethostbyname``), or None when it needs no lookup or CPython
        rejects it first: then libc can have the host as it is."""
        data = addr.host_bytes(host)
        if data is None or data in addr.SPECIAL_HOSTS or not needs_lookup(data, family):
            return None
        return self._lookup(data, family)

    def _lookup(self, host, family, alias=None):
        try:
            return self.cache.lookup(host, family, alias)
        except LookupFailed as failure:
            # The caller sees only what CPython raises, not our plumbing.
            six.raise_from(gaierror(failure.code), None)
