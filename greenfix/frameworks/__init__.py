"""The framework layer: one thin module per green framework, the only
modules of greenfix that import eventlet or gevent.

Everything below it (address handling, the resolvers, the cache, the
translator, the lookup pool, the watchdog) is framework-neutral and gets what
it needs from a framework module, passed in as ``green``.  ``eventlet.py``
and ``gevent.py`` offer all of this:

``NAME``, ``MONKEY_PATCH``
    ``"eventlet"`` or ``"gevent"``; the call that monkey-patches with it.
``is_monkey_patched()``
    Whether the framework patched the ``socket`` module.
``allocate_lock()``, ``get_ident()``, ``original_thread()``,
``original_sleep(seconds)``
    Unpatched functions: a native lock, the OS thread's identity, the
    low-level thread module (``start_new_thread``, ``allocate_lock``,
    ``get_ident``), a sleep that blocks the OS thread.
``lookup_functions``, ``LOOKUPS_BLOCK_HUB``
    The reference module-level lookups (``getaddrinfo``, ``gethostbyname``,
    ``gethostbyname_ex``, ``gethostbyaddr``) greenfix's cached ones answer
    like, and whether they block the hub (eventlet: libc's, run in
    greenfix's lookup pool; gevent: its own cooperative ones).
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

The classes each framework's sockets are patched in, and how, are in
:mod:`greenfix.patchers` (one module per framework, the same names).

This module only picks one, and imports neither framework unless it is
already imported or asked for by name.
"""

from __future__ import absolute_import

import importlib
import sys

NAMES = ("eventlet", "gevent")


def _imported(name):
    # sys.modules[name] is None where an import of it was blocked
    return sys.modules.get(name) is not None


def _patched_by(name):
    """Whether framework ``name`` (already imported) monkey-patched socket."""
    return _imported(name) and load(name).is_monkey_patched()


def detect():
    """The framework this process runs on: the one that monkey-patched the
    socket module, else the only one imported, else None.  Imports neither."""
    for name in NAMES:
        if _patched_by(name):
            return name
    imported = [name for name in NAMES if _imported(name)]
    return imported[0] if len(imported) == 1 else None


def load(name):
    """greenfix's module for framework ``name`` ("eventlet" or "gevent");
    ImportError when the framework is not installed."""
    if name not in NAMES:
        raise ValueError("unknown framework %r (expected one of %s)" % (name, ", ".join(NAMES)))
    return importlib.import_module("greenfix.frameworks." + name)
