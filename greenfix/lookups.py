"""Module-level lookups (``socket.getaddrinfo``, ``gethostbyname``,
``gethostbyname_ex``) answered like the framework's reference, without
blocking the hub, through greenfix's answer cache.

eventlet routes these to its greendns, whose answers and time budget differ
from the system's (it ignores ``attempts``, keeps dnspython's lifetime: 11 s
to fail where glibc gives up after 2 s; see docs/resolver.rst).  greenfix puts
back libc's behaviour for them:

* ``gethostbyname(name)`` is ``setipaddr(name, AF_INET)`` in CPython: the
  first IPv4 address, which is exactly what greenfix's resolver and cache
  answer for the socket methods, so it shares them;
* ``getaddrinfo`` and ``gethostbyname_ex`` return every address, sorted by
  glibc (RFC 6724 with the source addresses the kernel would pick,
  ``gai.conf``), with canonical names and aliases, services from
  ``/etc/services``: rather than rebuild that from DNS answers, a call that
  needs a lookup runs libc's own function in greenfix's lookup pool, and its
  result is kept in the answer cache under the whole call (:class:`WholeCalls`),
  so that TTLs (``default_ttl``: libc tells none), single-flight, negative
  caching and serve-stale apply to every client that connects through
  ``getaddrinfo()`` (``socket.create_connection``, redis-py, requests...).
  Numeric hosts, ``None`` and ``AI_NUMERICHOST`` need no lookup and call
  libc directly.

gevent's own lookups already leave the hub (its resolver: a thread pool by
default, or c-ares, dnspython, as ``GEVENT_RESOLVER`` says) and are what its
``connect`` and ``create_connection`` use: there the reference is gevent's
function itself, called in the green thread, and greenfix adds only the
cache (``getaddrinfo``, ``gethostbyname``, ``gethostbyname_ex``).
"""

from __future__ import absolute_import

import functools
import socket

import six

from greenfix import address as addr
from greenfix.cache import Cache
from greenfix.compat import HOST_TYPES, getaddrinfo_arguments, integer_types, \
    parses_as_c_string, text_type
from greenfix.errors import gaierror
from greenfix.libc import needs_lookup
from greenfix.resolvers import Answer, LookupFailed
from greenfix.resolvers.watched import SystemFiles

#: The cache's family slot for whole calls (their own family is in the key).
CALLS = socket.AF_UNSPEC

#: Exact types whose value alone decides what CPython hands libc.
_PORT_TYPES = (type(None), str, text_type, bytes) + integer_types


class WholeCalls(object):
    """The cache backend for whole calls: ``resolve(call, CALLS)`` runs the
    :class:`Call` through ``run(function, *args)`` (the lookup pool for
    libc's functions, a plain call for the framework's cooperative ones).
    A ``gaierror`` is a :class:`LookupFailed` (cached as the reference's
    answer); anything else (``TypeError``, ``OverflowError``, ``OSError``
    for ``EAI_SYSTEM``) reaches the caller as it is, uncached."""

    def __init__(self, run, name):
        self._run = run
        self.name = name
        self._files = SystemFiles()

    @property
    def signature(self):
        """Changes when a file libc reads for its answers changes."""
        return self._files.signature

    def resolve(self, call, _family):  # call: a Call
        try:
            return Answer(self._run(call.function, *call.args), None)
        except socket.gaierror as exc:
            raise LookupFailed(exc.errno)


class Call(object):
    """One libc call as the cache's "host": equal to another when their
    ``key`` is (what libc is asked), whatever objects the caller passed."""

    __slots__ = ("key", "function", "args")

    def __init__(self, key, function, args):
        self.key = key
        self.function = function
        self.args = args

    def __hash__(self):
        return hash(self.key)

    def __eq__(self, other):
        return isinstance(other, Call) and self.key == other.key

    def __ne__(self, other):  # Python 2 does not derive it from __eq__
        return not self == other

    def __repr__(self):
        return "Call%r" % (self.key,)


def _idna(host):
    """What CPython's getaddrinfo() hands libc: str through the "idna" codec
    (any error propagates, as there), bytes as they are."""
    if isinstance(host, bytes):
        return host
    return host.encode("idna")


def _getaddrinfo_key(host, data, port, numbers):
    """The cache key of ``getaddrinfo(host, port, *numbers)``, or None where
    an argument is not of a plain type whose value alone says what libc gets
    (a str subclass, a float, an object with ``__index__``): those calls
    are not cached."""
    if type(host) not in HOST_TYPES or type(port) not in _PORT_TYPES:
        return None
    if not all(isinstance(number, integer_types) for number in numbers):
        return None
    return ("getaddrinfo", data, type(port), port) + tuple(int(n) for n in numbers)


def _call(function, *args):
    return function(*args)


class CachedLookups(object):
    """``getaddrinfo``, ``gethostbyname`` and ``gethostbyname_ex`` off the
    hub, cached; ``gethostbyaddr`` off the hub where the framework's blocks
    it."""

    def __init__(self, pool, options, green):
        """``green``: the framework module (:mod:`greenfix.frameworks`),
        whose ``lookup_functions`` answer (run in ``pool`` where
        ``LOOKUPS_BLOCK_HUB``)."""
        self.blocking = green.LOOKUPS_BLOCK_HUB
        self._run = pool.run if self.blocking else _call
        self.cache = Cache(WholeCalls(self._run, "libc" if self.blocking else green.NAME),
                           options, green)
        self._pool = pool
        self.reference = green.lookup_functions

    def close(self):
        self.cache.close()

    def _cached(self, key, function, *args):
        if key is None:
            return self._run(function, *args)
        try:
            return self.cache.lookup(Call(key, function, args), CALLS)
        except LookupFailed as failure:
            six.raise_from(gaierror(failure.code), None)

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        # Not address.classify(): that mirrors setipaddr() for a socket's
        # family, this CPython's socket_getaddrinfo(), which hands libc any
        # family (AF_UNSPEC too), "" and "<broadcast>" as they are, and
        # AI_NUMERICHOST.  Non-string hosts, ports and flags are libc's to
        # reject or accept: only a host that needs a lookup leaves the hub.
        reference_getaddrinfo = self.reference.getaddrinfo
        if isinstance(host, HOST_TYPES) and not flags & socket.AI_NUMERICHOST:
            try:
                data = _idna(host)
            except UnicodeError:
                data = None
            if data and needs_lookup(data, family):
                key = _getaddrinfo_key(host, data, port, (family, type, proto, flags))
                return list(self._cached(key, reference_getaddrinfo,
                                         host, port, family, type, proto, flags))
        return reference_getaddrinfo(host, port, family, type, proto, flags)

    def gethostbyname_ex(self, hostname):
        answer = self._one_name("gethostbyname_ex", hostname)
        if isinstance(answer, tuple):
            name, aliases, addresses = answer
            return name, list(aliases), list(addresses)
        return answer

    def gethostbyname(self, hostname):
        return self._one_name("gethostbyname", hostname)

    def _one_name(self, function_name, hostname):
        """``function_name(hostname)`` of the reference, cached where the
        name needs a lookup.  CPython: setipaddr(name, AF_INET) first, then
        gethostbyname_r() for the ``_ex`` form."""
        function = getattr(self.reference, function_name)
        kind, data = addr.classify(socket.AF_INET, hostname)
        if kind == addr.NAME:
            key = (function_name, data) if _plain_host(hostname) else None
            return self._cached(key, function, hostname)
        return function(hostname)

    def gethostbyaddr(self, host):
        # Not one of eventlet's greendns functions: after monkey_patch() it
        # is still libc's, and so is socket.getfqdn() (smtplib's default
        # local_hostname), which calls it.  A reverse lookup always asks
        # the name services, so every call that CPython does not reject on
        # its type goes to the pool; uncached, as libc answers it (its
        # socket.herror failures carry no TTL to cache them by).
        libc_gethostbyaddr = self.reference.gethostbyaddr
        if addr.host_bytes(host) is None:
            return libc_gethostbyaddr(host)
        name, aliases, addresses = self._pool.run(libc_gethostbyaddr, host)
        return name, list(aliases), list(addresses)


def _plain_host(host):
    return type(host) in HOST_TYPES


def functions(cached_lookups, translator):
    """The replacements for ``socket``'s module-level lookups, by name.

    Each takes any arguments: a call whose arguments do not fit the
    function's signature goes to the original, whose argument parsing
    raises CPython's own TypeError (its text names the function as CPython
    does, on either major version) before any lookup.  Where the reference
    lookups block the hub (libc's, under eventlet), ``gethostbyname`` shares
    the socket methods' resolver (``translator``) and ``gethostbyaddr`` is
    moved off the hub; otherwise both stay the framework's, except that
    ``gethostbyname`` answers are cached."""
    reference = cached_lookups.reference

    def getaddrinfo(*args, **kwargs):
        try:
            arguments = getaddrinfo_arguments(*args, **kwargs)
        except TypeError:
            return reference.getaddrinfo(*args, **kwargs)
        return cached_lookups.getaddrinfo(*arguments)

    def one_host(name, method):
        original = getattr(reference, name)

        def lookup(*args, **kwargs):
            if len(args) != 1 or kwargs:
                return original(*args, **kwargs)
            return method(args[0])
        lookup.__name__ = name
        return lookup

    replacements = {"getaddrinfo": getaddrinfo}
    if cached_lookups.blocking:
        replacements["gethostbyname"] = one_host("gethostbyname", functools.partial(
            _setipaddr_text, translator, reference.gethostbyname))
        replacements["gethostbyaddr"] = one_host("gethostbyaddr", cached_lookups.gethostbyaddr)
    else:
        replacements["gethostbyname"] = one_host("gethostbyname", cached_lookups.gethostbyname)
    replacements["gethostbyname_ex"] = one_host("gethostbyname_ex",
                                                cached_lookups.gethostbyname_ex)
    return replacements


def _setipaddr_text(translator, libc_gethostbyname, hostname):
    # CPython: setipaddr(hostname, AF_INET), then the address as text;
    # the translator does the first half for ("name", 0) tuples.  Python
    # 2's socket_gethostbyname() parses its argument with "s" first, which
    # refuses non-ASCII text before any lookup: libc's raises that.
    if not parses_as_c_string(hostname):
        return libc_gethostbyname(hostname)
    numeric = translator.resolve_host(socket.AF_INET, hostname)
    return libc_gethostbyname(hostname if numeric is None else numeric)
