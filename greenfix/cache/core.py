"""The answer cache itself: :class:`Cache` ties the entries, the bounded
store, single-flight and the statistics together (see :mod:`greenfix.cache`
for what is kept and for how long)."""

from __future__ import absolute_import

import logging
import time

from greenfix import forks
from greenfix.cache.entries import TTLPolicy
from greenfix.cache.flights import RETRY, Flights
from greenfix.cache.stats import CacheStats
from greenfix.cache.store import BoundedStore
from greenfix.compat import PY2, clock
from greenfix.hotpath import HotTable
from greenfix.resolvers import LookupFailed

log = logging.getLogger("greenfix")

#: Seconds between checks of the backend's signature (its files).
CHECK_INTERVAL = 1.0

# What _consult() tells lookup() to do.
_ANSWER, _FAIL, _STALE, _LEAD, _JOIN = range(5)


class Cache(object):
    """Answers ``lookup(host, family)`` from memory or through ``backend``.

    ``hot`` is the hot path's table (:class:`greenfix.hotpath.HotTable`),
    which the cache keeps in step with its positive entries.  ``green`` is
    the framework module (:mod:`greenfix.frameworks`): its events, green
    threads, hub timers and native locks.
    """

    def __init__(self, backend, options, green):
        self.backend = backend
        self.policy = TTLPolicy(options)
        self.cache_size = options.cache_size
        self.check_interval = CHECK_INTERVAL
        self.hot = HotTable()
        self._green = green
        self._store = BoundedStore(options.cache_size)
        self._stats = CacheStats()
        self._generation = 0
        self._signature = self._checked = None
        self._wall = time.time()
        self._wanted = set()
        self._closed = False
        self._after_fork()
        forks.at_fork_in_child(self._after_fork)

    def _after_fork(self):
        """At start, and in a forked child: there the parent's lock may be
        held by a thread that is gone, its lookups in flight will not finish,
        and its hub timer belongs to the parent.  The answers stay."""
        self._lock = self._green.allocate_lock()
        self._flights = Flights(self._green.Event)
        self._home = self._green.get_ident()
        self._timer = None

    # ------------------------------------------------------------ lookups
    def lookup(self, host, family, alias=None):
        """The numeric address for ``host`` (bytes), or raise
        :class:`LookupFailed`.  ``alias`` (the host object the caller
        passed) is remembered for the hot path when the answer is fresh."""
        forks.check()
        key = (host, family)
        ident = self._green.get_ident()
        self._maybe_check()
        while True:
            with self._lock:
                step, value = self._consult(key, clock(), ident, alias)
            if step == _ANSWER:
                return value
            if step == _FAIL:
                raise value
            if step == _STALE:
                return self._serve_stale(key, ident, alias, *value)
            if step == _LEAD:
                outcome = self._fly(key, value, ident, alias)
            else:
                value.event.wait()
                outcome = value.outcome
                if outcome is RETRY:
                    continue
            if isinstance(outcome, LookupFailed):
                raise LookupFailed(outcome.code, outcome.ttl)
            return outcome

    def _consult(self, key, now, ident, alias):
        """Under the lock: what the cache holds for ``key`` says what
        ``lookup()`` does next, as ``(step, value)``."""
        entry = self._store.get(key)
        if entry is not None and entry.address is not None:
            if now < entry.expires:
                self._stats.count("hits")
                self._store.touch(key)
                self.hot.add_name(key, alias, entry)
                return _ANSWER, entry.address
            if now < entry.stale_until:
                self._stats.count("stale")
                flight = self._stale_refresh(key, entry, now, ident)
                return (_ANSWER, entry.address) if flight is None \
                    else (_STALE, (flight, entry.address))
            if entry.failure is not None and self.policy.held_down(entry, now):
                self._stats.count("negative_hits")
                return _FAIL, LookupFailed(entry.failure)
        elif entry is not None and now < entry.expires:
            self._stats.count("negative_hits")
            return _FAIL, LookupFailed(entry.error)
        flight = self._flights.get(key, ident)
        if flight is None:
            self._stats.count("misses")
            return _LEAD, self._flights.lead(key, ident)
        self._stats.count("joins")
        return _JOIN, self._flights.join(flight)

    def _fly(self, key, flight, ident, alias):
        """Ask the backend for ``key`` as the leader of ``flight``; store and
        hand the outcome (an address or a LookupFailed) to its joiners."""
        generation = self._generation
        outcome = RETRY
        start = clock()
        try:
            try:
                outcome = self.backend.resolve(key[0], key[1])
            except LookupFailed as failure:
                outcome = failure
        finally:
            end = clock()
            with self._lock:
                if outcome is not RETRY:
                    self._stats.latency(end - start)
                    outcome = self._keep(key, outcome, end, generation, alias)
                event = self._flights.finish(key, ident, flight, outcome)
            if event is not None:
                event.send(None)
        return outcome

    # ------------------------------------------------------------ serving stale
    def _stale_refresh(self, key, entry, now, ident):
        """Under the lock: whether this stale hit should refresh ``entry``
        now.  Returns the flight (registered) to run, or None: a refresh is
        in flight, failed less than ``hold_down`` ago, or is left to the
        home hub's timer (a call from another native thread)."""
        if self.policy.held_down(entry, now):
            return None
        if ident != self._home and self._timer is not None:
            self._wanted.add(key)
            return None
        if (key, ident) in self._flights:
            return None
        return self._flights.lead(key, ident)

    def _serve_stale(self, key, ident, alias, flight, address):
        """The stale ``address``, refreshed by ``flight`` in the background
        (on the home hub), or here, from another native thread without a
        timer (libc would have made it wait anyway), keeping the stale
        answer if that fails."""
        if self._start_refresh(key, flight, ident):
            return address
        outcome = self._fly(key, flight, ident, alias)
        return address if isinstance(outcome, LookupFailed) else outcome

    def _start_refresh(self, key, flight, ident):
        """Run ``flight`` in a new green thread if ``ident`` is the home
        thread; return whether it did (if not, the caller runs it)."""
        with self._lock:
            self._stats.count("refreshes")
        if ident != self._home:
            return False
        try:
            self._green.spawn(self._refresh, key, flight, ident)
        except Exception:  # no hub to be had here: the caller runs it
            log.debug("greenfix: background refresh not spawned", exc_info=True)
            return False
        return True

    def _refresh(self, key, flight, ident):
        try:
            self._fly(key, flight, ident, None)
        except Exception:
            log.warning("greenfix: refreshing %r failed", key[0], exc_info=True)

    # ------------------------------------------------------------ storing
    def _keep(self, key, result, now, generation, alias):
        """Under the lock: keep what the backend said; return the outcome
        for the callers (an address, or a LookupFailed)."""
        old = self._store.get(key)
        keep = self.cache_size > 0 and generation == self._generation and not self._closed
        if isinstance(result, LookupFailed):
            self._stats.failure(result.code)
            if self.policy.keeps_serving(old, result, now):
                if keep:   # asked again after the hold-down
                    old.refresh_failed(now, result.code)
            elif keep:
                self._replace(key, old, self.policy.failure_entry(result, now))
            return result
        if keep:
            entry = self.policy.answer_entry(result, now)
            self._replace(key, old, entry)
            self.hot.add_name(key, alias, entry)
        return result.address

    def _replace(self, key, old, entry):
        """Under the lock: put ``entry`` (or nothing) in place of ``old``."""
        if old is not None:
            self._stats.retire(self._store.pop(key))
        if entry is None or entry.address is None:
            self.hot.forget(key)
        else:
            self.hot.renew(key, entry)  # a refresh: the spellings seen stay hot
        if entry is None:
            return
        for evicted_key, evicted in self._store.put(key, entry):
            self._stats.retire(evicted)
            self._stats.count("evictions")
            self.hot.forget(evicted_key)
        self._ensure_timer()

    def remember_literal(self, family, host):
        """Let the hot path pass ``host`` (an IP literal) through as it is."""
        with self._lock:
            self.hot.add_literal(family, host)

    # ------------------------------------------------------------ invalidation
    def clear(self):
        """Forget every answer; return how many entries there were.
        Lookups in flight still answer their callers but store nothing."""
        with self._lock:
            entries = self._store.clear()
            for entry in entries:
                self._stats.retire(entry)
            self.hot.clear()
            self._wanted.clear()
            self._generation += 1
        return len(entries)

    def _maybe_check(self):
        now = clock()
        if self._checked is None or now - self._checked >= self.check_interval:
            self._checked = now
            self.check_signature()

    def check_signature(self):
        """Empty the cache if the backend's signature (what its answers
        depend on: the hosts file, resolv.conf...) changed since the last
        check.  Returns whether it did."""
        signature = getattr(self.backend, "signature", None)
        if self._signature is None or signature == self._signature:
            self._signature = signature
            return False
        self._signature = signature
        count = self.clear()
        with self._lock:
            self._stats.count("invalidations")
        log.debug("greenfix: the %s backend's configuration changed; %d cached answers "
                  "dropped", getattr(self.backend, "name", "?"), count)
        return True

    # ------------------------------------------------------------ the hub timer
    def _ensure_timer(self):
        """Under the lock: run the periodic check on the home hub while there
        are entries (only the home thread may schedule on its hub)."""
        if self._timer is not None or self._closed or self._green.get_ident() != self._home:
            return
        try:
            self._timer = self._green.call_later(self.check_interval, self._tick, self._lock)
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
            if PY2 and wall < self._wall - 0.5:   # the clock stepped back
                self.clear()
            self._wall = wall
            self._checked = clock()
            self.check_signature()
            self._refresh_wanted()
        except Exception:
            log.warning("greenfix: cache timer failed", exc_info=True)
        with self._lock:
            if len(self._store):
                self._ensure_timer()

    def _refresh_wanted(self):
        """Refresh the stale answers other native threads met since the last
        tick, on this (the home) hub."""
        home = self._home
        with self._lock:
            wanted, self._wanted = self._wanted, set()
            now = clock()
            flights = [(key, self._flights.lead(key, home)) for key in wanted
                       if self._expired(key, now) and (key, home) not in self._flights]
        for key, flight in flights:
            if not self._start_refresh(key, flight, home):
                self._refresh(key, flight, home)

    def _expired(self, key, now):
        entry = self._store.get(key)
        return entry is not None and entry.address is not None and now >= entry.expires

    def close(self):
        """Stop the timer and forget everything (at ``unpatch()``)."""
        forks.forget(self._after_fork)
        with self._lock:
            self._closed = True
            timer, self._timer = self._timer, None
        if timer is not None and self._green.get_ident() == self._home:
            timer.cancel()
        self.clear()

    # ------------------------------------------------------------ stats
    def stats(self):
        """Counters and backend latency percentiles; see
        :func:`greenfix.cache.stats.empty_stats`."""
        with self._lock:
            result = self._stats.snapshot(self._store.values(), len(self._flights))
        result["patched"] = True
        result["backend"] = getattr(self.backend, "name", type(self.backend).__name__)
        result["size"] = self.cache_size
        result["serve_stale"] = bool(self.policy.serve_stale)
        return result
