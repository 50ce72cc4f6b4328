"""The bounded store: entries by key, least recently used first out."""

from __future__ import absolute_import

import collections


class BoundedStore(object):
    """At most ``size`` entries.  Past it, the least recently used entry
    goes, except one the hot path hit since it was last looked at here,
    which gets a second chance (moves to the young end): a hot-path hit
    does not move its entry, so that the hot path takes no lock."""

    def __init__(self, size):
        self.size = size
        self._entries = collections.OrderedDict()   # LRU order, oldest first

    def __len__(self):
        return len(self._entries)

    def get(self, key):
        return self._entries.get(key)

    def values(self):
        return list(self._entries.values())

    def touch(self, key):
        """``key`` was used: it goes to the young end."""
        self._entries[key] = self._entries.pop(key)

    def pop(self, key):
        return self._entries.pop(key, None)

    def put(self, key, entry):
        """Keep ``entry`` under ``key``; return the ``(key, entry)`` pairs
        evicted to stay within the bound (never ``key`` itself)."""
        self._entries[key] = entry
        return self._evict(protect=key)

    def _evict(self, protect):
        entries = self._entries
        evicted = []
        chances = len(entries)
        while len(entries) > self.size:
            key, entry = entries.popitem(last=False)
            if key == protect or (chances > 0 and entry.hits != entry.seen_hits):
                chances -= 1
                entry.seen_hits = entry.hits
                entries[key] = entry
                continue
            evicted.append((key, entry))
        return evicted

    def clear(self):
        """Forget every entry; return them."""
        entries = list(self._entries.values())
        self._entries.clear()
        return entries
