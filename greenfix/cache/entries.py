"""What the cache knows about one name, and how long it may keep it: pure
logic, no locks, no I/O."""

from __future__ import absolute_import

import socket

_EAI_NODATA = getattr(socket, "EAI_NODATA", socket.EAI_NONAME)
#: Failures that are DNS's answer (RFC 2308 negative answers).
NEGATIVE = frozenset([socket.EAI_NONAME, _EAI_NODATA])

_EAI_NAMES = {}
for _name in ("EAI_NONAME", "EAI_NODATA", "EAI_AGAIN", "EAI_FAIL", "EAI_ADDRFAMILY",
              "EAI_FAMILY", "EAI_MEMORY", "EAI_SYSTEM", "EAI_SERVICE"):
    if hasattr(socket, _name):
        _EAI_NAMES.setdefault(getattr(socket, _name), _name)

#: The options the cache reads (defaults in greenfix/options.py).
OPTIONS = ("cache_size", "min_ttl", "max_ttl", "default_ttl", "negative_ttl",
           "max_negative_ttl", "hold_down", "serve_stale", "max_stale")


def failure_name(code):
    """``"EAI_AGAIN"`` for -3, ...; ``"EAI_<code>"`` for unknown codes."""
    return _EAI_NAMES.get(code, "EAI_%s" % (code,))


class Entry(object):
    """What is known about one ``(host, family)``.

    Positive: ``address`` is the numeric host, fresh until ``expires``,
    served stale until ``stale_until``; ``failed_at``/``failure`` tell the
    last failed refresh.  Negative or held down: ``address`` is None and
    ``error`` the EAI code, until ``expires``.  ``hits`` counts hot-path
    hits (:mod:`greenfix.hotpath` serves a positive entry while fresh:
    ``address``, ``expires`` and ``hits`` are what it reads).
    """

    __slots__ = ("expires", "address", "hits", "seen_hits", "stale_until",
                 "error", "failed_at", "failure")

    def __init__(self, address, expires, stale_until=None, error=None):
        self.address = address
        self.expires = expires
        self.stale_until = expires if stale_until is None else stale_until
        self.error = error
        self.hits = 0
        self.seen_hits = 0
        self.failed_at = None
        self.failure = None

    def refresh_failed(self, now, code):
        """A refresh of this (stale) answer failed with ``code`` at ``now``."""
        self.failed_at, self.failure = now, code


def _clamp(value, low, high):
    return max(low, min(value, high))


class TTLPolicy(object):
    """The cache options that say how long what a backend said is kept."""

    def __init__(self, options):
        for key in OPTIONS:
            setattr(self, key, getattr(options, key))

    def answer_entry(self, answer, now):
        """The entry for a positive :class:`~greenfix.resolvers.Answer`."""
        ttl = self.default_ttl if answer.ttl is None else answer.ttl
        expires = now + _clamp(ttl, self.min_ttl, self.max_ttl)
        stale_until = expires + self.max_stale if self.serve_stale else expires
        return Entry(answer.address, expires, stale_until)

    def failure_entry(self, failure, now):
        """The entry for a :class:`~greenfix.resolvers.LookupFailed`, or None
        (keep nothing): a negative answer for its TTL (the SOA minimum, RFC
        2308) or ``negative_ttl``; any other failure for ``hold_down``."""
        if failure.code in NEGATIVE:
            ttl = self.negative_ttl if failure.ttl is None else failure.ttl
            ttl = _clamp(ttl, self.min_ttl, self.max_negative_ttl)
            return Entry(None, now + ttl, error=failure.code) if ttl > 0 else None
        if self.hold_down > 0:
            return Entry(None, now + self.hold_down, error=failure.code)
        return None

    def keeps_serving(self, old, failure, now):
        """Whether ``failure`` is a failed refresh of ``old``, an answer still
        servable stale, which then goes on being served (RFC 8767); a
        negative answer ends it at once."""
        return (failure.code not in NEGATIVE and old is not None
                and old.address is not None and now < old.stale_until)

    def held_down(self, entry, now):
        """Whether the last refresh of ``entry`` failed under ``hold_down``
        seconds ago (not to be asked again yet)."""
        return entry.failed_at is not None and now < entry.failed_at + self.hold_down
