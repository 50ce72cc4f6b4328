"""``patch()``, ``unpatch()`` and ``is_patched()``: the process-wide state.

One lock-free state: greenfix is patched when ``_state.patches`` holds an
undo list.  ``patch()`` twice keeps the first patch (idempotent); to change
options, ``unpatch()`` first.
"""

from __future__ import absolute_import

import importlib
import warnings

from greenfix.cache.stats import empty_stats
from greenfix import watchdog  # also makes greenfix.watchdog reachable after "import greenfix"
from greenfix.errors import GreenfixError
from greenfix.options import Options
from greenfix.patchers.state import PatchSet


class _State(object):
    patches = None      # PatchSet while patched
    translator = None   # the Translator the wrappers use
    lookups = None      # the CachedLookups behind socket.getaddrinfo (or None)
    pool = None         # the LookupPool both use for libc
    framework = None    # "eventlet" or "gevent" while patched


_state = _State()


def patch(framework=None, **options):
    """Make every address-taking socket call of the green framework resolve
    host names without blocking the hub.

    ``framework`` ("eventlet" or "gevent") defaults to the one that
    monkey-patched the socket module, else the only one imported (with a
    warning that monkey-patching comes first); neither is a
    :class:`GreenfixError`.  Returns True if it patched, False if greenfix
    was already patched (the first patch and its options stay).  Keyword
    options (see docs/usage.rst): ``resolver`` ("auto", "greendns",
    "threadpool"; default ``$GREENFIX_RESOLVER`` or "auto"),
    ``resolv_conf``, ``hosts``, ``nsswitch``, ``nameservers``, ``timeout``,
    ``attempts``, ``lookups``, ``lookup_threads`` and the cache options.
    Every failure to patch is a :class:`GreenfixError` (see its docstring
    for the cases; an unknown option is one that is also a TypeError).
    """
    if _state.patches is not None:
        return False
    parsed = Options(**options)
    green, patcher = _framework(framework)
    from greenfix import resolvers
    from greenfix.lookups import CachedLookups
    from greenfix.translate import Translator

    _warn_if_not_monkey_patched(green)
    pool = green.make_pool(parsed.lookup_threads)
    translator = Translator(resolvers.build(parsed, pool, green), parsed, green)
    cached_lookups = CachedLookups(pool, parsed, green) if parsed.lookups else None
    patches = PatchSet()
    try:
        patcher.patch(patches, translator, cached_lookups)
        watchdog.start_from_environment()   # GREENFIX_WATCHDOG=<seconds>
    except Exception:
        patches.restore()
        _close(translator, cached_lookups, pool)
        raise
    _state.patches, _state.translator = patches, translator
    _state.lookups, _state.pool = cached_lookups, pool
    _state.framework = green.NAME
    return True


def _framework(name):
    """The framework module and patcher module for ``patch(framework=name)``."""
    from greenfix import frameworks
    if name is None:
        name = frameworks.detect()
        if name is None:
            raise GreenfixError(
                "greenfix.patch() found no green framework in this process: call "
                "eventlet.monkey_patch() or gevent's monkey.patch_all() first (or "
                "pass framework='eventlet' or 'gevent')")
    elif name not in frameworks.NAMES:
        raise GreenfixError("greenfix.patch(framework=%r): expected one of %s"
                            % (name, ", ".join(repr(known) for known in frameworks.NAMES)))
    try:
        green = frameworks.load(name)
        patcher = importlib.import_module("greenfix.patchers." + name)
    except ImportError as exc:
        raise GreenfixError("greenfix.patch() needs %s: %s" % (name, exc))
    return green, patcher


def _warn_if_not_monkey_patched(green):
    if not green.is_monkey_patched():
        how = green.MONKEY_PATCH
        warnings.warn(
            "greenfix.patch() was called before %s: greenfix wraps %s's green "
            "sockets, so socket.socket is covered only once %s has run"
            % (how, green.NAME, how), RuntimeWarning, stacklevel=3)


def _close(translator, cached_lookups, pool):
    for owner in (translator, cached_lookups, pool):
        if owner is not None:
            owner.close()


def unpatch():
    """Put back every original greenfix replaced, where it is still
    greenfix's.  Returns False if greenfix was not patched."""
    patches = _state.patches
    if patches is None:
        return False
    owners = (_state.translator, _state.lookups, _state.pool)
    _state.patches = _state.translator = _state.lookups = _state.pool = None
    _state.framework = None
    patches.restore()
    _close(*owners)
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
    ``p50``, ``p90``, ``p99`` of recent backend calls, in seconds);
    ``lookups``, the same counters for the module-level lookups
    (``socket.getaddrinfo``, ``gethostbyname_ex``: whole libc calls);
    ``pool``, the lookup threads (``threads``, ``busy``, ``queued``); and
    ``watchdog``, the hub watchdog's counters (docs/watchdog.rst).  Not
    patched: the same keys, zeros, ``backend`` and percentiles None."""
    translator = _state.translator
    if translator is None:
        # not the cache module: that imports eventlet
        result = empty_stats()
        result["lookups"] = empty_stats()
        result["pool"] = {"threads": 0, "busy": 0, "queued": 0}
    else:
        result = translator.cache.stats()
        result["lookups"] = _state.lookups.cache.stats() if _state.lookups is not None \
            else empty_stats()
        result["pool"] = _state.pool.stats()
    result["watchdog"] = watchdog.stats()
    return result


def clear_cache():
    """Forget every cached answer; return how many there were (0 when not
    patched)."""
    translator = _state.translator
    if translator is None:
        return 0
    count = translator.cache.clear()
    if _state.lookups is not None:
        count += _state.lookups.cache.clear()
    return count
