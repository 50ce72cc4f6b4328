"""eventlet's primitives for greenfix's framework-neutral core and its
watchdog (the interface: :mod:`greenfix.frameworks`).  The classes greenfix
patches, and how, are in :mod:`greenfix.patchers.eventlet`."""

from __future__ import absolute_import

import eventlet
from eventlet import hubs, patcher
from eventlet.event import Event  # noqa: F401 (part of the interface)

from greenfix.compat import THREAD_MODULE
from greenfix.pool import LookupPool

NAME = "eventlet"
#: The call that monkey-patches the process (named in greenfix's warning).
MONKEY_PATCH = "eventlet.monkey_patch()"

_original_thread = patcher.original(THREAD_MODULE)
allocate_lock = _original_thread.allocate_lock
get_ident = _original_thread.get_ident

#: libc's module-level lookups (the reference for greenfix's replacements of
#: eventlet's greendns ones), which block the hub: greenfix runs them in its
#: lookup pool.
lookup_functions = patcher.original("socket")
LOOKUPS_BLOCK_HUB = True

spawn = eventlet.spawn_n
sleep = eventlet.sleep


def is_monkey_patched():
    """Whether ``eventlet.monkey_patch()`` patched the socket module."""
    return patcher.is_monkey_patched("socket")


def original_thread():
    """The unpatched low-level thread module (as eventlet.tpool gets its own
    threads): ``start_new_thread`` makes an OS thread, ``allocate_lock`` a
    native lock, ``get_ident`` the OS thread id."""
    return _original_thread


def original_sleep(seconds):
    """The unpatched ``time.sleep``: blocks the calling OS thread."""
    patcher.original("time").sleep(seconds)


def hub_thread_ident():
    """OS thread id of the thread whose hub the caller runs on (eventlet has
    one hub per OS thread: the caller's)."""
    hubs.get_hub()
    return get_ident()


def call_later(seconds, function, *args):
    """A timer on the calling thread's hub (never switches to run it)."""
    return hubs.get_hub().schedule_call_global(seconds, function, *args)


def call_every(interval, func):
    """Run ``func()`` in the caller's hub every ``interval`` seconds, as a hub
    timer (no greenlet); ``func`` must not block or raise.  Returns a function
    that stops it."""
    hub = hubs.get_hub()
    state = {"timer": None, "stopped": False}

    def tick():
        if state["stopped"]:
            return
        state["timer"] = hub.schedule_call_global(interval, tick)
        func()

    state["timer"] = hub.schedule_call_global(interval, tick)

    def cancel():
        state["stopped"] = True
        state["timer"].cancel()
    return cancel


def green_socket():
    """eventlet's green socket module (ImportError where it cannot be had)."""
    from eventlet.green import socket
    return socket


def make_pool(max_threads):
    """greenfix's lookup pool on eventlet: green sleep, original threads."""
    return LookupPool(max_threads, sleep, _original_thread)
