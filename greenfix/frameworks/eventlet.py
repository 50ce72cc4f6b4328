"""eventlet's pieces for greenfix.watchdog (same functions as gevent.py)."""

from __future__ import absolute_import

import eventlet
import eventlet.hubs
import eventlet.patcher
import six

# The low-level thread module: "thread" on Python 2, "_thread" on 3.
_THREAD_MODULE = "thread" if six.PY2 else "_thread"


def is_monkey_patched():
    """Whether ``eventlet.monkey_patch()`` patched the socket module."""
    return eventlet.patcher.is_monkey_patched("socket")


def original_thread():
    """The unpatched low-level thread module (as eventlet.tpool gets its own
    threads): ``start_new_thread`` makes an OS thread, ``allocate_lock`` a
    native lock, ``get_ident`` the OS thread id."""
    return eventlet.patcher.original(_THREAD_MODULE)


def original_sleep(seconds):
    """The unpatched ``time.sleep``: blocks the calling OS thread."""
    eventlet.patcher.original("time").sleep(seconds)


def hub_thread_ident():
    """OS thread id of the thread whose hub the caller runs on (eventlet has
    one hub per OS thread: the caller's)."""
    eventlet.hubs.get_hub()
    return original_thread().get_ident()


def call_every(interval, func):
    """Run ``func()`` in the caller's hub every ``interval`` seconds, as a hub
    timer (no greenlet); ``func`` must not block or raise.  Returns a function
    that stops it."""
    hub = eventlet.hubs.get_hub()
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


def spawn(func, *args):
    """Run ``func(*args)`` in a new greenlet of the caller's hub."""
    eventlet.spawn_n(func, *args)


def sleep(seconds):
    """Green sleep: yields to the hub."""
    eventlet.sleep(seconds)
