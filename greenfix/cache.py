"""The answer cache: what the backend said about a name, reused while it holds.

Every name a wrapped socket call resolves goes through :class:`Cache`, keyed
by ``(host bytes, family)``.  What is kept, and for how long (all options of
``greenfix.patch()``, in seconds; see ``docs/cache.rst``):

``cache_size`` = 10000
    Entries kept at most (positive, negative and hold-down ones together).
    Past it the least recently used entry goes (LRU; a hit served by the hot
    path gives its entry a second chance instead of moving it), so host
    names an attacker picks cannot grow memory.  0 turns caching off
    (concurrent lookups of a name are still shared).
``min_ttl`` = 1, ``max_ttl`` = 3600
    Clamp on every TTL (``max_ttl`` may not exceed 3600, c-ares' cap).  The
    floor keeps a TTL-0 record from costing a query per call.
``default_ttl`` = 30
    TTL of answers that carry none: the thread-pool backend (libc tells no
    TTL) and the hosts file.
``negative_ttl`` = 5, ``max_negative_ttl`` = 300
    EAI_NONAME / EAI_NODATA (NXDOMAIN, no record of the family) are cached
    for the TTL the failure carries (the SOA minimum, RFC 2308), or
    ``negative_ttl`` without one, clamped to ``[min_ttl, max_negative_ttl]``.
``hold_down`` = 2
    EAI_AGAIN / EAI_FAIL (timeouts, SERVFAIL, REFUSED) are not answers: they
    are only held this long, so that a dead DNS does not make every call
    wait out the resolver's time budget again; and a failed background
    refresh is not retried sooner than this.
``serve_stale`` = True, ``max_stale`` = 86400
    RFC 8767: once an answer expires, the next call gets it at once and a
    background green thread asks again.  While those refreshes fail
    (EAI_AGAIN, EAI_FAIL) the expired answer keeps being served, until
    ``max_stale`` after its expiry (RFC 8767 suggests 1 to 3 days); after
    that a call fails with the error of the failed refresh, as libc would.
    A refresh answered EAI_NONAME/EAI_NODATA ends the stale answer at once.

Concurrent lookups of a name are shared (single-flight): one backend call,
the other green threads wait for its outcome.

Changes of the hosts file, resolv.conf and nsswitch.conf (paths from the
options) empty the cache.  They are noticed by one ``os.stat()`` per file at
most once per second (``CHECK_INTERVAL``): from a timer on the hub while the
cache holds entries, and from the slow path; never on the hot path.

Threads.  The structures are shared by every native thread and guarded by
one lock of the *original* threading module, held only for dictionary work,
never across a backend call.  The hot path takes no lock.  A green thread
waits for a lookup in flight only if it was started in its own native
thread (eventlet's events belong to one hub): a caller in another thread
(an ``eventlet.tpool`` worker, a plain thread) resolves on its own, as
libc would have.  The background refresh of a stale answer runs on the hub
of the thread that called ``patch()``; a stale answer met in another
thread is refreshed by that hub's timer, or, when no timer runs, by the
calling thread itself (which libc would have blocked anyway).  Hit counters
are not locked: under native-thread contention ``stats()`` may miss a few.

The clock is ``time.monotonic`` (Python 3).  On Python 2, where only the
``monotonic`` package offers one at ~3 us a call, it is ``time.time``; the
timer empties the cache if that clock steps backwards.
"""

from __future__ import absolute_import

import collections
import logging
import os
import socket
import time

import six

from greenfix import forks
from greenfix.counters import COUNTERS as _COUNTERS
from greenfix.counters import percentiles
from greenfix.resolvers import LookupFailed

try:
    import eventlet
    from eventlet import patcher
    from eventlet.event import Event
except ImportError:  # stats() still works (greenfix cannot be patched)
    import threading as _threading
    eventlet = Event = None
    _get_ident = getattr(_threading, "get_ident", None) or _threading._get_ident
else:
    _threading = patcher.original("threading")
    _get_ident = patcher.original("_thread" if six.PY3 else "thread").get_ident

log = logging.getLogger("greenfix")

#: The cache's clock, cheap enough for the hot path.
clock = time.time if six.PY2 else time.monotonic

#: Seconds between checks of the hosts file, resolv.conf and nsswitch.conf.
CHECK_INTERVAL = 1.0

#: How many backend call durations ``stats()`` computes percentiles over.
RESERVOIR = 1024

#: The options the cache reads (defaults in greenfix/options.py).
OPTIONS = ("cache_size", "min_ttl", "max_ttl", "default_ttl", "negative_ttl",
           "max_negative_ttl", "hold_down", "serve_stale", "max_stale")

_EAI_NODATA = getattr(socket, "EAI_NODATA", socket.EAI_NONAME)
#: Failures that are DNS's answer (RFC 2308 negative answers).
NEGATIVE = frozenset([socket.EAI_NONAME, _EAI_NODATA])

_EAI_NAMES = {}
for _name in ("EAI_NONAME", "EAI_NODATA", "EAI_AGAIN", "EAI_FAIL", "EAI_ADDRFAMILY",
              "EAI_FAMILY", "EAI_MEMORY", "EAI_SYSTEM", "EAI_SERVICE"):
    if hasattr(socket, _name):
        _EAI_NAMES.setdefault(getattr(socket, _name), _name)


#: What a flight tells its joiners when it ended without an outcome (its
#: green thread was killed, the backend raised something unexpected): ask
#: again.
_RETRY = object()


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


class _Flight(object):
    """One backend call in flight, which later callers of the same thread
    wait for on ``event`` (made by the first of them)."""

    __slots__ = ("event", "outcome")

    def __init__(self):
        self.event = None
        self.outcome = _RETRY


def _signature(paths):
    result = []
    for path in paths:
        try:
            st = os.stat(path)
            result.append((st.st_mtime, st.st_size, st.st_ino))
        except (OSError, TypeError, ValueError):
            result.append(None)
    return tuple(result)


def _clamp(value, low, high):
    return max(low, min(value, high))


class Cache(object):
    """Answers ``lookup(host, family)`` from memory or through ``backend``.

    ``hot`` is the hot path's table (:class:`greenfix.hotpath.HotTable`),
    which the cache keeps in step with its positive entries.
    """

    def __init__(self, backend, options=None):
        from greenfix.hotpath import HotTable  # (it imports this module's clock)
        if options is None:
            from greenfix.options import Options
            options = Options()
        self.backend = backend
        for key in OPTIONS:
            setattr(self, key, getattr(options, key))
        self.paths = [path for path in (getattr(options, name, None) for name in
                                        ("hosts", "resolv_conf", "nsswitch")) if path]
        self.check_interval = CHECK_INTERVAL
        self.hot = HotTable()
        self._entries = collections.OrderedDict()   # LRU order, oldest first
        self._flights = {}      # (key, thread ident) -> _Flight
        self._lock = _threading.Lock()
        self._home = _get_ident()
        self._counts = dict((name, 0) for name in _COUNTERS)
        self._failures = {}
        self._retired_hits = 0
        self._latencies = collections.deque(maxlen=RESERVOIR)
        self._generation = 0
        self._signature = None
        self._checked = None
        self._wall = time.time()
        self._wanted = set()
        self._timer = None
        self._closed = False
        forks.at_fork_in_child(self._after_fork)

    def _after_fork(self):
        """In a forked child: the parent's lock may be held by a thread that
        is gone, its lookups in flight will not finish here, and its hub
        timer belongs to the parent.  The answers stay (they were true)."""
        self._lock = _threading.Lock()
        self._flights = {}
        self._home = _get_ident()
        self._timer = None

    # ------------------------------------------------------------ lookups
    def lookup(self, host, family, alias=None):
        """The numeric address for ``host`` (bytes), or raise
        :class:`LookupFailed`.  ``alias`` (the host object the caller
        passed) is remembered for the hot path when the answer is fresh."""
        forks.check()
        key = (host, family)
        ident = _get_ident()
        self._maybe_check()
        while True:
            now = clock()
            refresh = None
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None:
                    if entry.address is not None:
                        if now < entry.expires:
                            self._counts["hits"] += 1
                            self._touch(key, entry)
                            self.hot.add_name(key, alias, entry)
                            return entry.address
                        if now < entry.stale_until:
                            self._counts["stale"] += 1
                            refresh = self._stale_refresh(key, entry, now, ident)
                            address = entry.address
                            if refresh is None:
                                return address
                        elif entry.failure is not None and \
                                now < entry.failed_at + self.hold_down:
                            self._counts["negative_hits"] += 1
                            raise LookupFailed(entry.failure)
                    elif now < entry.expires:
                        self._counts["negative_hits"] += 1
                        raise LookupFailed(entry.error)
                if refresh is None:
                    flight = self._flights.get((key, ident))
                    lead = flight is None
                    if lead:
                        flight = self._flights[(key, ident)] = _Flight()
                        self._counts["misses"] += 1
                    else:
                        if flight.event is None:
                            flight.event = Event()
                        self._counts["joins"] += 1
            if refresh is not None:
                if self._start_refresh(key, refresh, ident):
                    return address
                # Outside the home thread without a timer: this thread asks
                # again itself (libc would have made it wait anyway) and
                # keeps the stale answer if that fails.
                outcome = self._fly(key, refresh, ident, alias)
                return address if isinstance(outcome, LookupFailed) else outcome
            if lead:
                outcome = self._fly(key, flight, ident, alias)
            else:
                flight.event.wait()
                outcome = flight.outcome
                if outcome is _RETRY:
                    continue
            if isinstance(outcome, LookupFailed):
                raise LookupFailed(outcome.code, outcome.ttl)
            return outcome

    def _stale_refresh(self, key, entry, now, ident):
        """Under the lock: whether this stale hit should refresh ``entry``
        now.  Returns the flight (registered) to run, or None: a refresh is
        in flight, failed less than ``hold_down`` ago, or is left to the
        home hub's timer (a call from another native thread)."""
        if entry.failed_at is not None and now < entry.failed_at + self.hold_down:
            return None
        if ident == self._home:
            if (key, ident) in self._flights:
                return None
            flight = self._flights[(key, ident)] = _Flight()
            return flight
        if self._timer is not None:
            self._wanted.add(key)
            return None
        if (key, ident) in self._flights:
            return None
        flight = self._flights[(key, ident)] = _Flight()
        return flight

    def _start_refresh(self, key, flight, ident):
        """Run ``flight`` in a new green thread if ``ident`` is the home
        thread; return whether it did (if not, the caller runs it)."""
        with self._lock:
            self._counts["refreshes"] += 1
        if ident != self._home:
            return False
        try:
            eventlet.spawn_n(self._refresh, key, flight, ident)
        except Exception:  # no hub to be had here: the caller runs it
            log.debug("greenfix: background refresh not spawned", exc_info=True)
            return False
        return True

    def _refresh(self, key, flight, ident):
        try:
            self._fly(key, flight, ident, None)
        except Exception:
            log.warning("greenfix: refreshing %r failed", key[0], exc_info=True)

    def _fly(self, key, flight, ident, alias):
        """Ask the backend for ``key`` as the leader of ``flight``; store and
        hand the outcome (an address or a LookupFailed) to its joiners."""
        generation = self._generation
        outcome = _RETRY
        start = clock()
        try:
            try:
                outcome = self.backend.resolve(key[0], key[1])
            except LookupFailed as failure:
                outcome = failure
        finally:
            end = clock()
            with self._lock:
                if self._flights.get((key, ident)) is flight:
                    del self._flights[(key, ident)]
                if outcome is not _RETRY:
                    self._latencies.append(end - start)
                    outcome = self._store(key, outcome, end, generation, alias)
                flight.outcome = outcome
                event = flight.event
            if event is not None:
                event.send(None)
        return outcome

    # ------------------------------------------------------------ storing
    def _store(self, key, result, now, generation, alias):
        """Under the lock: keep what the backend said; return the outcome
        for the callers (an address, or a LookupFailed)."""
        old = self._entries.get(key)
        keep = self.cache_size > 0 and generation == self._generation and not self._closed
        if isinstance(result, LookupFailed):
            code = result.code
            name = failure_name(code)
            self._failures[name] = self._failures.get(name, 0) + 1
            if code in NEGATIVE:
                ttl = self.negative_ttl if result.ttl is None else result.ttl
                ttl = _clamp(ttl, self.min_ttl, self.max_negative_ttl)
                entry = Entry(None, now + ttl, error=code) if ttl > 0 else None
            elif old is not None and old.address is not None and now < old.stale_until:
                # A failed refresh of an answer still servable stale: keep
                # serving it, ask again after the hold-down.
                if keep:
                    old.failed_at, old.failure = now, code
                return result
            else:
                entry = Entry(None, now + self.hold_down, error=code) \
                    if self.hold_down > 0 else None
            if keep:
                self._replace(key, old, entry)
            return result
        ttl = self.default_ttl if result.ttl is None else result.ttl
        ttl = _clamp(ttl, self.min_ttl, self.max_ttl)
        if keep:
            expires = now + ttl
            stale_until = expires + self.max_stale if self.serve_stale else expires
            entry = Entry(result.address, expires, stale_until)
            self._replace(key, old, entry)
            self.hot.add_name(key, alias, entry)
        return result.address

    def _replace(self, key, old, entry):
        """Under the lock: put ``entry`` (or nothing) in place of ``old``."""
        if old is not None:
            del self._entries[key]
            self._retired_hits += old.hits
        if entry is None or entry.address is None:
            self.hot.forget(key)
        else:
            self.hot.renew(key, entry)  # a refresh: the spellings seen stay hot
        if entry is None:
            return
        self._entries[key] = entry
        self._evict(key)
        self._ensure_timer()

    def _touch(self, key, entry):
        self._entries[key] = self._entries.pop(key)

    def _evict(self, protect):
        """Under the lock: drop least recently used entries past the bound,
        never ``protect`` (the key just stored).  An entry hit on the hot
        path since it was last looked at here gets a second chance (moves to
        the young end) instead."""
        entries = self._entries
        chances = len(entries)
        while len(entries) > self.cache_size:
            key, entry = entries.popitem(last=False)
            if key == protect or (chances > 0 and entry.hits != entry.seen_hits):
                chances -= 1
                entry.seen_hits = entry.hits
                entries[key] = entry
                continue
            self._retired_hits += entry.hits
            self.hot.forget(key)
            self._counts["evictions"] += 1

    # ------------------------------------------------------------ literals
    def remember_literal(self, family, host):
        """Let the hot path pass ``host`` (an IP literal) through as it is."""
        with self._lock:
            self.hot.add_literal(family, host)

    # ------------------------------------------------------------ invalidation
    def clear(self):
        """Forget every answer; return how many entries there were.
        Lookups in flight still answer their callers but store nothing."""
        with self._lock:
            count = len(self._entries)
            for entry in self._entries.values():
                self._retired_hits += entry.hits
            self._entries.clear()
            self.hot.clear()
            self._wanted.clear()
            self._generation += 1
        return count

    def _maybe_check(self):
        now = clock()
        if self._checked is None or now - self._checked >= self.check_interval:
            self._checked = now
            self.check_files()

    def check_files(self):
        """Empty the cache if the hosts file, resolv.conf or nsswitch.conf
        changed since the last check.  Returns whether it did."""
        signature = _signature(self.paths)
        if self._signature is None or signature == self._signature:
            self._signature = signature
            return False
        self._signature = signature
        count = self.clear()
        with self._lock:
            self._counts["invalidations"] += 1
        log.debug("greenfix: %s changed; %d cached answers dropped",
                  " or ".join(self.paths), count)
        return True

    def _ensure_timer(self):
        """Under the lock: run the periodic check on the home hub while there
        are entries (only the home thread may schedule on its hub)."""
        if self._timer is not None or self._closed or _get_ident() != self._home:
            return
        try:
            from eventlet import hubs
            self._timer = hubs.get_hub().schedule_call_global(self.check_interval, self._tick,
                                                              self._lock)
        except Exception:
            log.debug("greenfix: no cache timer", exc_info=True)

    def _tick(self, lock):
        """Timer callback on the home hub (never switches).  ``lock`` is the
        cache's lock when the timer was set: a timer of the parent that a
        forked child inherited (with the parent's hub) finds another one and
        ends there."""
        if lock is not self._lock:
            return
        with self._lock:
            self._timer = None
            if self._closed:
                return
        try:
            wall = time.time()
            if six.PY2 and wall < self._wall - 0.5:   # the clock stepped back
                self.clear()
            self._wall = wall
            self._checked = clock()
            self.check_files()
            with self._lock:
                wanted, self._wanted = self._wanted, set()
                flights = []
                now = clock()
                for key in wanted:
                    entry = self._entries.get(key)
                    if entry is None or entry.address is None or now < entry.expires:
                        continue
                    if (key, self._home) in self._flights:
                        continue
                    flight = self._flights[(key, self._home)] = _Flight()
                    flights.append((key, flight))
            for key, flight in flights:
                if not self._start_refresh(key, flight, self._home):
                    self._refresh(key, flight, self._home)
        except Exception:
            log.warning("greenfix: cache timer failed", exc_info=True)
        with self._lock:
            if self._entries:
                self._ensure_timer()

    def close(self):
        """Stop the timer and forget everything (at ``unpatch()``)."""
        forks.forget(self._after_fork)
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None and _get_ident() == self._home:
            timer.cancel()
        self.clear()

    # ------------------------------------------------------------ stats
    def stats(self):
        """Counters and backend latency percentiles; see :func:`empty_stats`."""
        with self._lock:
            result = dict(self._counts)
            result["hits"] += self._retired_hits + sum(
                entry.hits for entry in self._entries.values())
            result["entries"] = len(self._entries)
            result["in_flight"] = len(self._flights)
            result["failures"] = dict(self._failures)
            latencies = sorted(self._latencies)
        result["patched"] = True
        result["backend"] = getattr(self.backend, "name", type(self.backend).__name__)
        result["size"] = self.cache_size
        result["serve_stale"] = bool(self.serve_stale)
        result["latency"] = percentiles(latencies)
        return result
