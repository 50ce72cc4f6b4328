"""``patch()``, ``unpatch()`` and ``is_patched()``: the process-wide state.

One lock-free state: greenfix is patched when ``_state.patches`` holds an
undo list.  ``patch()`` twice keeps the first patch (idempotent); to change
options, ``unpatch()`` first.
"""

from __future__ import absolute_import

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
    without blocking the hub.  See the docs for the options."""
    if _state.patches is not None:
        return False
    parsed = Options(**options)
    try:
        from greenfix.patchers import eventlet as eventlet_patcher
    except ImportError as exc:
        raise GreenfixError("greenfix.patch() needs eventlet: %s" % (exc,))
    from greenfix import resolvers

    eventlet_patcher.warn_if_not_monkey_patched()
    resolver = resolvers.build(parsed)
    patches = PatchSet()
    try:
        translator = eventlet_patcher.patch(patches, resolver)
    except Exception:
        patches.restore()
        raise
    _state.patches, _state.translator, _state.options = patches, translator, parsed
    return True


def unpatch():
    """Put back every original greenfix replaced, where it is still
    greenfix's.  Returns False if greenfix was not patched."""
    patches = _state.patches
    if patches is None:
        return False
    _state.patches = _state.translator = _state.options = None
    patches.restore()
    return True


def is_patched():
    """Whether ``patch()`` is in effect."""
    return _state.patches is not None
