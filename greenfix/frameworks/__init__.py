"""The framework layer: one thin module per green framework, the only
modules of greenfix that import eventlet or gevent.

Everything below it (address handling, the resolvers, the cache, the
translator, the lookup pool, the watchdog) is framework-neutral and gets what
it needs from a framework module, passed in as ``green``.  ``eventlet.py``
offers all of this; ``gevent.py``, so far, what the watchdog uses
(``is_monkey_patched``, ``original_thread``, ``original_sleep``, ``spawn``,
``sleep``, ``call_every``, ``hub_thread_ident``):

``NAME``
    ``"eventlet"`` or ``"gevent"``.
``is_monkey_patched()``
    Whether the framework patched the ``socket`` module.
``original_socket``, ``threading``, ``get_ident``, ``original_thread()``,
``original_sleep(seconds)``
    Unpatched modules and functions: libc's lookups, native threads and
    locks, the OS thread's identity, a sleep that blocks the OS thread.
``spawn(function, *args)``, ``sleep(seconds)``, ``Event()``
    A green thread, a cooperative sleep, an event one green thread sends
    (``send(value)``) and others wait for (``wait()``), on the calling
    thread's hub.
``call_later(seconds, function, *args)``, ``call_every(interval, function)``
    A hub timer (``.cancel()``) and a repeating one (returns its stop
    function), run on the calling thread's hub without a green thread.
``hub_thread_ident()``
    The OS thread that runs the caller's hub.
``green_socket()``
    The green ``socket`` module the stub resolver sends its queries with.
``make_pool(max_threads)``
    A :class:`greenfix.pool.LookupPool` waiting with the green sleep.

This module only picks one, and imports neither framework unless it is
already imported or asked for by name.
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
