"""The shape of ``greenfix.stats()``, importable without eventlet: an
unpatched process asks for it without importing the cache (which imports
eventlet, and with it eventlet's deprecation warning)."""

from __future__ import absolute_import

#: The cache's event counters.
COUNTERS = ("hits", "misses", "stale", "joins", "negative_hits", "refreshes",
            "evictions", "invalidations")


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
