"""Turn the address a caller passes into one the C socket method can take
without looking anything up on the hub thread.

``Translator.translate()`` is on every wrapped call, so its first lines are
the hot path: a literal host already seen is returned as it is after one type
check and one dict lookup.  Everything else goes through ``_translate_slow()``:

1. addresses CPython would not resolve (other families, wrong shapes, hosts it
   rejects, ``""`` and ``"<broadcast>"``) go through unchanged, so CPython
   raises or handles them itself;
2. hosts libc decides without a lookup (``127.1``, ``fe80::1%lo``, an IPv4
   literal on an IPv6 socket) go through unchanged too;
3. for a name, the rest of the call is first checked the way CPython checks it
   before ``setipaddr()`` (see :func:`check_arguments`), then the name is
   resolved by the backend, cooperatively, and the host is replaced by the
   numeric address.  Port, flowinfo and scope_id stay the caller's.
"""

from __future__ import absolute_import

import errno
import socket

import _socket
import six

from greenfix import address as addr
from greenfix.errors import gaierror
from greenfix.libc import needs_lookup
from greenfix.resolvers import LookupFailed

#: How many literal hosts to remember per family before starting afresh:
#: enough for any real service, a bound for addresses an attacker picks.
LITERALS_MAX = 4096

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
    closed socket replays the parsing: it ends in EBADF if the arguments are
    fine, or in the error CPython gives first.
    """
    address = args[position]
    probe_args = list(args)
    probe_args[position] = addr.replace_host(address, _PLACEHOLDER[family])
    try:
        getattr(_probe_socket(family), method)(*probe_args)
    except socket.error as exc:
        if exc.errno != errno.EBADF:
            raise
    except OverflowError as exc:
        # "port must be 0-65535." / "flowinfo must be 0-1048575." are checked
        # after the lookup (getsockaddrarg()), so they must not pre-empt it.
        if "must be 0-" not in str(exc):
            raise


class Translator(object):
    """Maps caller addresses to numeric ones through a resolution backend."""

    def __init__(self, resolver):
        self.resolver = resolver
        self._literals = dict((family, {}) for family in addr.INET_FAMILIES)

    def translate(self, family, args, position, method):
        """The address ``args[position]`` as the C ``method`` should get it."""
        address = args[position]
        try:
            if type(address) is tuple and address[0] in self._literals[family]:
                return address
        except (KeyError, IndexError, TypeError):
            pass
        return self._translate_slow(family, args, position, method)

    def _translate_slow(self, family, args, position, method):
        address = args[position]
        host = addr.split(family, address)
        if host is None:
            return address
        if not needs_lookup(host, family):
            self._remember_literal(family, address[0])
            return address
        check_arguments(family, method, args, position)
        try:
            answer = self.resolver.resolve(host, family)
        except LookupFailed as failure:
            # The caller sees only what CPython raises, not our plumbing.
            six.raise_from(gaierror(failure.code), None)
        return addr.replace_host(address, answer.address)

    def _remember_literal(self, family, host):
        literals = self._literals[family]
        if len(literals) >= LITERALS_MAX:
            literals.clear()
        try:
            literals[host] = True
        except TypeError:  # bytearray: correct, just not remembered
            pass
