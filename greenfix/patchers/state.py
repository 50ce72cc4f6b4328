"""The undo list: every attribute greenfix replaced, with what was there.

Restoring is identity-checked (as pytest-socket and gevent's
``monkey/_state.py`` do): an attribute is put back only while it still holds
greenfix's replacement, so a later patch by someone else survives
``unpatch()``.  Class attributes are compared through the class ``__dict__``,
because on Python 2 ``getattr(cls, name)`` builds a new unbound method on
every access.
"""

from __future__ import absolute_import

import warnings

_MISSING = object()


class PatchSet(object):
    """Replacements made on objects (classes, modules), undone in reverse."""

    def __init__(self):
        self._undo = []

    def __len__(self):
        return len(self._undo)

    def replace(self, owner, name, replacement):
        """Set ``owner.name`` to ``replacement``, remembering what its own
        ``__dict__`` held (or that it inherited the attribute)."""
        original = vars(owner).get(name, _MISSING)
        setattr(owner, name, replacement)
        self._undo.append((owner, name, original, replacement))

    def restore(self):
        """Undo every replacement still in place; return the (owner, name)
        pairs left alone because someone else replaced them since."""
        skipped = []
        while self._undo:
            owner, name, original, replacement = self._undo.pop()
            if vars(owner).get(name, _MISSING) is not replacement:
                skipped.append((owner, name))
                continue
            if original is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        for owner, name in skipped:
            warnings.warn("greenfix.unpatch(): %s.%s was replaced by someone "
                          "else after greenfix patched it; leaving it as it is"
                          % (getattr(owner, "__name__", owner), name),
                          RuntimeWarning, stacklevel=3)
        return skipped
