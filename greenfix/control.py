"""``patch()``, ``unpatch()`` and ``is_patched()``: the process-wide state.

One lock-free state: greenfix is patched when ``_state.patches`` holds an
undo list.  ``patch()`` twice keeps the first patch (idempotent); to change
options, ``unpatch()`` first.
"""

from __future__ import absolute_import

from greenfix import watchdog  # also makes greenfix.watchdog reachable after "import greenfix"
from greenfix.errors import GreenfixError
from greenfix.options import Options
from greenfix.patchers.state import PatchSet


class _State(object):
    patches = None      # PatchSet while patched
    translator = None   # the Translator the wrappers use
    options = None


_state = _State()


def patch(**options):
    """Make every address-taking eventlet socket call resolve host names
    without blocking the hub.

    Returns True if it patched, False if greenfix was already patched (the
    first patch and its options stay).  Keyword options (see docs/usage.rst):
    ``resolver`` ("auto", "greendns", "threadpool"; default
    ``$GREENFIX_RESOLVER`` or "auto"), ``resolv_conf``, ``hosts``,
    ``nsswitch``, ``nameservers``, ``timeout``, ``attempts``, ``lookups``,
    and the cache options.  An unknown option is a TypeError; an invalid
    value, or eventlet missing, a :class:`GreenfixError`.
    """
    if _state.patches is not None:
        return False
    parsed = Options(**options)
    try:
        from greenfix.patchers import eventlet as eventlet_patcher
    except ImportError as exc:
        raise GreenfixError("greenfix.patch() needs eventlet: %s" % (exc,))
    from greenfix import resolvers
    from greenfix.translate import Translator

    eventlet_patcher.warn_if_not_monkey_patched()
    translator = Translator(resolvers.build(parsed), parsed)
    patches = PatchSet()
    try:
        eventlet_patcher.patch(patches, translator, lookups=parsed.lookups)
        watchdog.start_from_environment()   # GREENFIX_WATCHDOG=<seconds>
    except Exception:
        patches.restore()
        translator.close()
        raise
    _state.patches, _state.translator, _state.options = patches, translator, parsed
    return True


def unpatch():
    """Put back every original greenfix replaced, where it is still
    greenfix's.  Returns False if greenfix was not patched."""
    patches = _state.patches
    if patches is None:
        return False
    translator = _state.translator
    _state.patches = _state.translator = _state.options = None
    patches.restore()
    if translator is not None:
        translator.close()
    return True


def is_patched():
    """Whether ``patch()`` is in effect."""
    return _state.patches is not None


def stats():
    """A new dict of the answer cache's counters (see docs/cache.rst):
    ``hits``, ``misses``, ``stale``, ``joins``, ``negative_hits``,
    ``refreshes``, ``entries``, ``evictions``, ``invalidations``,
    ``in_flight``, ``failures`` (backend failures by EAI name), ``backend``,
    ``size``, ``serve_stale``, ``patched`` and ``latency`` (``count``,
    ``p50``, ``p90``, ``p99`` of recent backend calls, in seconds).  Not
    patched: the same keys, zeros, ``backend`` and percentiles None.  Plus
    ``watchdog``: the hub watchdog's counters (docs/watchdog.rst)."""
    from greenfix import cache

    translator = _state.translator
    counters = cache.empty_stats() if translator is None else translator.cache.stats()
    counters["watchdog"] = watchdog.stats()
    return counters


def clear_cache():
    """Forget every cached answer; return how many there were (0 when not
    patched)."""
    translator = _state.translator
    if translator is None:
        return 0
    return translator.cache.clear()
