"""1,000,000 distinct names through the cache: the number of entries never
exceeds the bound; memory per entry.

No DNS here: a backend answering at once stands in for the resolver, so the
run measures the cache alone.  Names go through ``Cache.lookup()`` with the
caller's str as alias, exactly as ``Translator._translate_slow()`` calls
it, so the hot path's table (``cache.hot``) is filled (and bounded) too.
"""

from __future__ import absolute_import, division, print_function

import socket
import sys

from greenfix.cache import Cache
from greenfix.frameworks import eventlet as green
from greenfix.options import Options
from greenfix.resolvers import Answer

from benchmarks import common

NAMES = 1000000
TRACED_ROUNDS = 3     # tracemalloc runs over the first 3 x cache_size names


class InstantBackend(object):
    name = "instant"

    def __init__(self):
        self.calls = 0

    def resolve(self, host, family):
        self.calls += 1
        return Answer("10.%d.%d.%d" % ((self.calls >> 16) & 255, (self.calls >> 8) & 255,
                                       self.calls & 255), 60)


def structure_bytes(cache):
    """sys.getsizeof() summed over the cache's structures and what they hold
    (containers, keys, entries, addresses, aliases, memo tuples)."""
    seen = set()
    total = 0
    stack = [cache._store._entries, cache.hot.tables, cache.hot._aliases]
    while stack:
        obj = stack.pop()
        if id(obj) in seen or obj is None or isinstance(obj, (int, float)):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, tuple):
            stack.extend(obj)
        elif hasattr(obj, "__slots__") and not isinstance(obj, (bytes, str)):
            stack.extend(getattr(obj, name, None) for name in obj.__slots__)
    return total


def run(names=NAMES):
    # The backend has no signature: the cache checks no configuration files.
    cache = Cache(InstantBackend(), Options(), green)
    size = cache.cache_size
    tracemalloc = None
    if sys.version_info >= (3, 4):
        import tracemalloc
        tracemalloc.start()
    family = socket.AF_INET
    fast = cache.hot.tables[family]
    worst_entries = worst_fast = 0
    traced = {}
    structure = {}
    try:
        if tracemalloc:
            traced[0] = tracemalloc.get_traced_memory()[0]
        start = common.timer()
        for index in range(names):
            host = "host-%07d.example.test" % index
            cache.lookup(host.encode("ascii"), family, host)
            entries = len(cache._store)
            if entries > worst_entries:
                worst_entries = entries
            if len(fast) > worst_fast:
                worst_fast = len(fast)
            done = index + 1
            if done % size == 0 and done <= TRACED_ROUNDS * size and tracemalloc:
                del host
                traced[done] = tracemalloc.get_traced_memory()[0]
                if done == TRACED_ROUNDS * size:
                    tracemalloc.stop()
                    tracemalloc = None
            if done == size:
                structure[done] = structure_bytes(cache)
        elapsed = common.timer() - start
        structure[names] = structure_bytes(cache)
        stats = cache.stats()
    finally:
        if tracemalloc:
            tracemalloc.stop()
        cache.close()
    table = common.Table(
        "bound: %d distinct names" % names,
        """
        Cache(cache_size=%d, the default) with a backend answering at once (TTL 60);
        each name looked up once through Cache.lookup() as the slow path does (bytes
        key, str alias for the hot path); sizes checked after every insertion.
        tracemalloc (Python 3) over the first %d x %d names: traced bytes when the
        cache first holds %d entries, minus before the first name, over %d; then
        after each further %d names.  sys.getsizeof() summed over the cache's
        structures when first full and after the last name.  %.1f s in all.
        """ % (size, TRACED_ROUNDS, size, size, size, size, elapsed))
    table.add("most entries ever", worst_entries, "<= %d" % size, worst_entries <= size)
    table.add("most hot-path names/literals ever", worst_fast, "<= %d" % size,
              worst_fast <= size)
    table.add("evictions", stats["evictions"], "== %d" % (names - size),
              stats["evictions"] == names - size)
    if traced:
        per_entry = (traced[size] - traced[0]) / size
        table.add("memory per entry, tracemalloc", "%d bytes" % per_entry)
        later = [traced[n] for n in sorted(traced) if n > size]
        growth = (max(later) - traced[size]) / (traced[size] - traced[0]) if later else 0
        table.add("traced memory after %s names vs full" % ", ".join(
            "%dk" % (n // 1000) for n in sorted(traced) if n > size),
            ", ".join("%+.0f KiB" % ((m - traced[size]) / 1024.0) for m in later),
            "< +50%", growth < 0.5)
    else:
        table.add("memory per entry, tracemalloc", "n/a (Python 2)")
    table.add("memory per entry, getsizeof walk (full)", "%d bytes" % (structure[size] // size))
    ratio = structure[names] / structure[size]
    table.add("getsizeof walk after %d names / when full" % names, "%.2fx" % ratio,
              "< 1.5x", ratio < 1.5)
    table.add("cache lookups per second (miss + store + evict)", "%.0f" % (names / elapsed))
    return table


if __name__ == "__main__":
    import eventlet
    eventlet.monkey_patch()
    print(run().render())
