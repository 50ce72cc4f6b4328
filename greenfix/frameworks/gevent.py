"""gevent's primitives for greenfix's framework-neutral core and its
watchdog (the interface: :mod:`greenfix.frameworks`).  The classes greenfix
patches, and how, are in :mod:`greenfix.patchers.gevent`.

gevent patches the ``threading`` module in place (its locks, its
``start_new_thread`` and ``get_ident`` become green), so greenfix's native
threads and locks come from ``gevent.monkey.get_original()``, which returns
the unpatched functions whether or not the process is patched.
"""

from __future__ import absolute_import

import gevent
import gevent.event
import gevent.monkey
import gevent.socket

from greenfix.compat import THREAD_MODULE as _THREAD_MODULE
from greenfix.pool import LookupPool

NAME = "gevent"
#: The call that monkey-patches the process (named in greenfix's warning).
MONKEY_PATCH = "gevent.monkey.patch_all()"


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


_original_thread = _OriginalThread()
allocate_lock = _original_thread.allocate_lock
get_ident = _original_thread.get_ident

class _Lookups(object):
    """gevent's module-level lookups (``gevent.socket.getaddrinfo``...), as
    gevent made them, before greenfix replaces them: they already leave the
    hub (its resolver, as ``GEVENT_RESOLVER`` chose), and ``connect`` and
    ``create_connection`` use them.  They are the reference greenfix's
    cached replacements call, in the green thread."""

    getaddrinfo = staticmethod(gevent.socket.getaddrinfo)
    gethostbyname = staticmethod(gevent.socket.gethostbyname)
    gethostbyname_ex = staticmethod(gevent.socket.gethostbyname_ex)
    gethostbyaddr = staticmethod(gevent.socket.gethostbyaddr)


lookup_functions = _Lookups
LOOKUPS_BLOCK_HUB = False


def is_monkey_patched():
    """Whether gevent's monkey-patching patched the socket module."""
    return gevent.monkey.is_module_patched("socket")


def original_thread():
    """The unpatched ``start_new_thread``, ``allocate_lock`` and
    ``get_ident`` (OS threads, native locks, OS thread ids), patched or not."""
    return _original_thread


def original_sleep(seconds):
    """The unpatched ``time.sleep``: blocks the calling OS thread."""
    gevent.monkey.get_original("time", "sleep")(seconds)


def hub_thread_ident():
    """OS thread id of the thread that runs the caller's hub."""
    return gevent.get_hub().thread_ident


class Event(object):
    """eventlet's ``Event`` interface (``send(value)``; ``wait()`` returns
    the value) on gevent's ``AsyncResult``."""

    __slots__ = ("_result",)

    def __init__(self):
        self._result = gevent.event.AsyncResult()

    def send(self, value=None):
        self._result.set(value)

    def wait(self):
        return self._result.get()


class _Timer(object):
    """A started loop timer, with eventlet's ``cancel()``."""

    __slots__ = ("_watcher",)

    def __init__(self, watcher):
        self._watcher = watcher

    def cancel(self):
        self._watcher.stop()
        getattr(self._watcher, "close", lambda: None)()


def _loop_timer(after, repeat, function, *args):
    # ref=False: greenfix's timers never keep gevent's loop (gevent.wait(),
    # hub.join()) alive on their own
    watcher = gevent.get_hub().loop.timer(after, repeat, ref=False)
    watcher.start(function, *args)
    return _Timer(watcher)


def call_later(seconds, function, *args):
    """A timer on the calling thread's hub (run in the hub greenlet; never
    switches to run it)."""
    return _loop_timer(seconds, 0.0, function, *args)


def call_every(interval, func):
    """Run ``func()`` in the caller's hub every ``interval`` seconds, as a
    repeating loop timer (no greenlet); ``func`` must not block or raise.
    Returns a function that stops it."""
    return _loop_timer(interval, interval, func).cancel


def spawn(func, *args):
    """Run ``func(*args)`` in a new greenlet of the caller's hub."""
    gevent.spawn_raw(func, *args)


sleep = gevent.sleep


def green_socket():
    """gevent's cooperative socket module."""
    return gevent.socket


def make_pool(max_threads):
    """greenfix's lookup pool on gevent: green sleep, original threads."""
    return LookupPool(max_threads, sleep, _original_thread)
