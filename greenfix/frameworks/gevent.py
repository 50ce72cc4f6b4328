"""gevent's primitives for greenfix's framework-neutral core and its
watchdog (the interface: :mod:`greenfix.frameworks`)."""

from __future__ import absolute_import

import gevent
import gevent.event
import gevent.monkey

from greenfix.compat import THREAD_MODULE as _THREAD_MODULE


class _OriginalThread(object):
    """The unpatched low-level thread functions gevent keeps (and the C
    RLock, which Python 2 lacks)."""

    def __init__(self):
        self.start_new_thread, self.allocate_lock, self.get_ident = gevent.monkey.get_original(
            _THREAD_MODULE, ["start_new_thread", "allocate_lock", "get_ident"])
        try:
            self.RLock = gevent.monkey.get_original(_THREAD_MODULE, "RLock")
        except AttributeError:  # Python 2
            pass


_original_thread = None


def is_monkey_patched():
    """Whether gevent's monkey-patching patched the socket module."""
    return gevent.monkey.is_module_patched("socket")


def original_thread():
    """The unpatched ``start_new_thread``, ``allocate_lock`` and
    ``get_ident`` (OS threads, native locks, OS thread ids), patched or not."""
    global _original_thread
    if _original_thread is None:
        _original_thread = _OriginalThread()
    return _original_thread


def original_sleep(seconds):
    """The unpatched ``time.sleep``: blocks the calling OS thread."""
    gevent.monkey.get_original("time", "sleep")(seconds)


def hub_thread_ident():
    """OS thread id of the thread that runs the caller's hub."""
    return gevent.get_hub().thread_ident


def call_every(interval, func):
    """Run ``func()`` in the caller's hub every ``interval`` seconds, as a
    repeating loop timer (no greenlet; ref=False: it never keeps the loop
    alive); ``func`` must not block or raise.  Returns a function that stops
    it."""
    timer = gevent.get_hub().loop.timer(interval, interval, ref=False)
    timer.start(func)

    def cancel():
        timer.stop()
        getattr(timer, "close", lambda: None)()
    return cancel


def spawn(func, *args):
    """Run ``func(*args)`` in a new greenlet of the caller's hub."""
    gevent.spawn_raw(func, *args)


sleep = gevent.sleep

NAME = "gevent"
