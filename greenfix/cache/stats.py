"""The cache's statistics, the shape of ``greenfix.stats()``."""

from __future__ import absolute_import

import collections

from greenfix.cache.entries import failure_name

#: The cache's event counters.
COUNTERS = ("hits", "misses", "stale", "joins", "negative_hits", "refreshes",
            "evictions", "invalidations")

#: How many backend call durations ``stats()`` computes percentiles over.
RESERVOIR = 1024


def percentiles(samples):
    """p50/p90/p99 (nearest rank, seconds) of sorted ``samples``."""
    result = {"count": len(samples)}
    for name, fraction in (("p50", 0.50), ("p90", 0.90), ("p99", 0.99)):
        if samples:
            index = max(0, min(len(samples) - 1, int(-(-fraction * len(samples) // 1)) - 1))
            result[name] = samples[index]
        else:
            result[name] = None
    return result


def empty_stats():
    """What ``greenfix.stats()`` returns when greenfix is not patched: the
    same keys, counters at zero, ``backend`` None, percentiles None."""
    result = dict((name, 0) for name in COUNTERS)
    result.update(entries=0, in_flight=0, failures={}, patched=False, backend=None,
                  size=0, serve_stale=False, latency=percentiles([]))
    return result


class CacheStats(object):
    """Counters, backend failures by kind, and the last :data:`RESERVOIR`
    backend call durations.  Used under the cache's lock; hot-path hits
    are counted on the entries and gathered here when asked."""

    def __init__(self):
        self._counts = dict((name, 0) for name in COUNTERS)
        self._failures = {}
        self._retired_hits = 0       # of entries no longer in the store
        self._latencies = collections.deque(maxlen=RESERVOIR)

    def count(self, name):
        self._counts[name] += 1

    def failure(self, code):
        name = failure_name(code)
        self._failures[name] = self._failures.get(name, 0) + 1

    def latency(self, seconds):
        self._latencies.append(seconds)

    def retire(self, entry):
        """``entry`` leaves the store: keep its hot-path hits."""
        self._retired_hits += entry.hits

    def snapshot(self, entries, in_flight):
        """The counters as ``greenfix.stats()`` shows them, for the
        ``entries`` in the store and the flights ``in_flight``."""
        result = dict(self._counts)
        result["hits"] += self._retired_hits + sum(entry.hits for entry in entries)
        result["entries"] = len(entries)
        result["in_flight"] = in_flight
        result["failures"] = dict(self._failures)
        result["latency"] = percentiles(sorted(self._latencies))
        return result
