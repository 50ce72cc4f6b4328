"""greenfix: host names in eventlet socket calls resolved without freezing
the hub.

Usage::

    import eventlet; eventlet.monkey_patch()
    import greenfix; greenfix.patch()
"""

from __future__ import absolute_import

from greenfix.control import clear_cache, is_patched, patch, stats, unpatch
from greenfix.errors import GreenfixError

__version__ = "0.1.0"

__all__ = ["patch", "unpatch", "is_patched", "stats", "clear_cache", "GreenfixError",
           "__version__"]
