"""The few framework-specific pieces greenfix needs, one module per framework.

``greenfix.frameworks.eventlet`` and ``greenfix.frameworks.gevent`` are the
only greenfix modules that import eventlet or gevent; each offers the same
small functions (see ``eventlet.py``).  This module only picks one, and
imports neither framework unless it is already imported or asked for by name.
"""

from __future__ import absolute_import

import importlib
import sys

NAMES = ("eventlet", "gevent")


def _patched_by(name):
    """Whether framework ``name`` (already imported) monkey-patched socket."""
    return name in sys.modules and load(name).is_monkey_patched()


def detect():
    """The framework this process runs on: the one that monkey-patched the
    socket module, else the only one imported, else None.  Imports neither."""
    for name in NAMES:
        if _patched_by(name):
            return name
    imported = [name for name in NAMES if name in sys.modules]
    return imported[0] if len(imported) == 1 else None


def load(name):
    """greenfix's module for framework ``name`` ("eventlet" or "gevent");
    ImportError when the framework is not installed."""
    if name not in NAMES:
        raise ValueError("unknown framework %r (expected one of %s)" % (name, ", ".join(NAMES)))
    return importlib.import_module("greenfix.frameworks." + name)
