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

A change of what the backend's answers depend on empties the cache: every
backend has a ``signature`` (the hosts file, resolv.conf, nsswitch.conf and
gai.conf it reads, or those libc reads), which the cache compares at most
once per second (``CHECK_INTERVAL``): from a timer on the hub while the
cache holds entries, and from the slow path; never on the hot path.

Threads.  The structures are shared by every native thread and guarded by
one lock of the *original* threading module, held only for dictionary work,
never across a backend call.  The hot path takes no lock.  A green thread
waits for a lookup in flight only if it was started in its own native
thread (a framework's events belong to one hub): a caller in another thread
(an ``eventlet.tpool`` worker, a plain thread) resolves on its own, as
libc would have.  The background refresh of a stale answer runs on the hub
of the thread that called ``patch()``; a stale answer met in another
thread is refreshed by that hub's timer, or, when no timer runs, by the
calling thread itself (which libc would have blocked anyway).  Hit counters
are not locked: under native-thread contention ``stats()`` may miss a few.

The clock is ``time.monotonic`` (Python 3).  On Python 2, where only the
``monotonic`` package offers one at ~3 us a call, it is ``time.time``; the
timer empties the cache if that clock steps backwards.

The parts, one job each: :mod:`~greenfix.cache.entries` (an answer and how
long it holds), :mod:`~greenfix.cache.store` (the bounded LRU store),
:mod:`~greenfix.cache.flights` (single-flight), :mod:`~greenfix.cache.stats`
(the counters ``greenfix.stats()`` shows) and :mod:`~greenfix.cache.core`
(:class:`Cache`, which ties them together).  None imports a framework: the
framework module (:mod:`greenfix.frameworks`) is passed in.
"""

from __future__ import absolute_import

from greenfix.cache.core import CHECK_INTERVAL, Cache  # noqa: F401
from greenfix.cache.entries import Entry, failure_name  # noqa: F401
from greenfix.cache.stats import empty_stats  # noqa: F401
