"""Resolution backends.

Every backend has ``name`` and ``resolve(host, family)``: ``host`` is the
bytes CPython would hand to ``getaddrinfo()``, ``family`` AF_INET or
AF_INET6.  It returns an :class:`Answer` (the first address, as
``setipaddr()`` takes the first ``getaddrinfo()`` result, and its TTL) or
raises :class:`LookupFailed` with libc's error code.  It may switch green
threads; it never blocks the hub.
"""

from __future__ import absolute_import

import collections
import logging
import socket

log = logging.getLogger("greenfix")

#: ``address``: numeric string; ``ttl``: seconds the answer may be reused
#: (the smallest TTL of the answer chain), or None where the backend cannot
#: tell (libc, the hosts file).
Answer = collections.namedtuple("Answer", "address ttl")


class LookupFailed(Exception):
    """A lookup ended without an address.

    ``code`` is the ``EAI_*`` value libc's ``getaddrinfo()`` would return;
    ``ttl`` is how long DNS says the failure holds (the SOA minimum of an
    NXDOMAIN or no-data answer, RFC 2308), or None.
    """

    def __init__(self, code, ttl=None):
        Exception.__init__(self, code, ttl)
        self.code = code
        self.ttl = ttl


class GuardedResolver(object):
    """greendns where it can answer, libc in the thread pool where it cannot.

    A :class:`LookupFailed` from greendns is DNS's answer (NXDOMAIN, no data, timeout,
    SERVFAIL) and is final: asking libc again would only double the time a
    failure takes.  Anything else greendns raises is a fault of greendns or
    dnspython (an incompatibility, an unreadable resolv.conf); that call is
    answered by libc instead, with one warning in the log.  Without a
    fallback (``resolver="greendns"``) such a fault is logged and the caller
    gets EAI_FAIL, never an exception from inside dnspython.
    """

    def __init__(self, primary, fallback=None):
        self.primary = primary
        self.fallback = fallback
        self.name = "auto" if fallback is not None else primary.name
        self._warned = False

    @property
    def signature(self):
        """Changes when either backend's does."""
        fallback = self.fallback.signature if self.fallback is not None else None
        return (self.primary.signature, fallback)

    def resolve(self, host, family):
        if self.fallback is not None and not self.primary.handles(host):
            return self.fallback.resolve(host, family)
        try:
            return self.primary.resolve(host, family)
        except LookupFailed:
            raise
        except Exception as exc:
            if self.fallback is None:
                log.error("greendns failed resolving %r", host, exc_info=True)
                raise LookupFailed(socket.EAI_FAIL)
            if not self._warned:
                self._warned = True
                log.warning("greendns failed (%r); resolving in the thread pool "
                            "instead", exc)
            return self.fallback.resolve(host, family)


def build(options, pool, green):
    """The backend ``options.resolver`` asks for; libc's lookups run in
    ``pool`` (a :class:`greenfix.pool.LookupPool`), DNS queries on the green
    sockets of ``green`` (the framework module)."""
    from greenfix.resolvers.threadpool import ThreadPoolResolver
    from greenfix.resolvers import choice, greendns

    primary = unavailable = None
    if options.resolver != "threadpool":
        try:
            primary = greendns.GreenDNSResolver(options, green)
        except greendns.Unavailable as exc:
            unavailable = str(exc)
    kind, reason = choice.process_backend(options.resolver, unavailable)
    log.debug("resolver %s: %s", kind, reason)
    if kind == "threadpool":
        return ThreadPoolResolver(pool)
    if kind == "greendns":
        return GuardedResolver(primary)
    return GuardedResolver(primary, ThreadPoolResolver(pool))
