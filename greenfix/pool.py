"""greenfix's own native threads for the lookups only libc can answer.

Why not the framework's pool (``eventlet.tpool``)?

* Fork: eventlet starts its pool once and never again; in a forked child
  the pool's threads are gone and every ``tpool.execute()`` waits forever.
  This pool notices the fork (:mod:`greenfix.forks`), forgets the parent's
  threads and runs the parent's unfinished lookups again in the child.
* Starvation: a burst of lookups during a DNS outage would hold every
  thread of a shared pool for the resolver's whole time budget, and
  ``tpool.execute()`` callers (``eventlet.db_pool``...) would queue behind
  them.  Here lookups queue only behind lookups.
* Start-up: threads start one by one as lookups need them (at most
  ``lookup_threads``), never in ``patch()``; starting one costs the hub
  0.15 ms (median; 0.5 ms at most, measured on Python 3.11 here), against
  30 to 60 ms for ``tpool.setup()``'s twenty.

A green thread waits for its lookup by polling the job's flag with a
growing sleep (a twentieth of the time waited so far, between 0.5 ms and
50 ms), not through a pipe that wakes the hub: a pipe registered with the
hub's epoll instance is shared with a forked child, which could then
unregister the parent's interest in it.  The poll makes a lookup at most
about 5 % slower than libc itself, and at least one poll late (0.5 to 1 ms:
the hub sleeps in whole milliseconds); a waiting lookup costs about 20
short wake-ups a second once it has waited a second.

A call from any native thread other than the one that built the pool (an
``eventlet.tpool`` worker, a plain thread) runs libc right there: that
thread has no hub to keep running, and libc would have blocked it anyway.
"""

from __future__ import absolute_import

import collections
import ctypes
import sys

import six

from greenfix import forks
from greenfix.compat import clock

#: Bounds of the poll interval, and the fraction of the time waited so far
#: that one poll sleeps (see the module docstring).
POLL_MIN, POLL_MAX, POLL_FRACTION = 0.0005, 0.05, 1.0 / 20


def _libc_res_init():
    try:
        return getattr(ctypes.CDLL(None), "__res_init")
    except (OSError, AttributeError):   # not glibc
        return None


#: glibc's ``res_init()`` (``__res_init``): for the calling thread, close the
#: resolver's sockets and read resolv.conf again.
_res_init = _libc_res_init()


def forget_inherited_resolver_state():
    """In a thread started in a forked child.  glibc hands a new thread a
    stack (and its static TLS, where the thread's ``_res`` lives) cached
    from a thread that died, and after ``fork()`` that includes every thread
    of the parent (nptl ``__reclaim_stacks``).  A parent thread caught inside
    ``getaddrinfo()`` leaves its UDP socket open in that ``_res``: the new
    thread would send on the socket the parent is still reading, and each
    process could take the other's replies (seen here: both lookups failed
    with EAI_AGAIN).  ``res_init()`` closes those sockets (the child's copies
    only) before the first lookup."""
    if _res_init is not None:
        _res_init()


class _Job(object):
    """One call of ``function(*args)``; ``done`` turns true once
    ``result`` or ``error`` (an ``exc_info`` triple) holds its outcome."""

    __slots__ = ("function", "args", "result", "error", "done")

    def __init__(self, function, args):
        self.function = function
        self.args = args
        self.result = self.error = None
        self.done = False

    def run(self):
        try:
            self.result = self.function(*self.args)
        except BaseException:
            self.error = sys.exc_info()
        self.done = True

    def outcome(self):
        if self.error is not None:
            error, self.error = self.error, None  # no traceback cycle kept
            six.reraise(*error)
        return self.result


class _Wakeup(object):
    """``threading.Condition``'s ``wait()``/``notify()`` on native locks
    only (CPython's ``threading.Condition`` hands each waiter a lock of its
    own, as here): under gevent the ``threading`` module's locks are green,
    and a native thread must never wait on one.  ``lock`` is held by the
    caller of every method."""

    def __init__(self, lock, allocate_lock):
        self._lock = lock
        self._allocate_lock = allocate_lock
        self._waiters = collections.deque()

    def wait(self):
        waiter = self._allocate_lock()
        waiter.acquire()
        self._waiters.append(waiter)
        self._lock.release()
        try:
            waiter.acquire()    # until notify() releases it
        finally:
            self._lock.acquire()

    def notify(self):
        if self._waiters:
            self._waiters.popleft().release()

    def notify_all(self):
        while self._waiters:
            self._waiters.popleft().release()


class LookupPool(object):
    """Runs blocking calls in up to ``max_threads`` native threads while
    the calling green thread sleeps.

    ``green_sleep`` is the framework's cooperative sleep; ``thread`` the
    framework's *original* (unpatched) low-level thread module, or an
    object with its ``start_new_thread``, ``allocate_lock`` and
    ``get_ident``.
    """

    def __init__(self, max_threads, green_sleep, thread):
        self.max_threads = max_threads
        self._sleep = green_sleep
        self._thread = thread
        self._get_ident = thread.get_ident
        self._closed = False
        self._forked = False    # this process is a child forked since
        self._reset(())
        forks.at_fork_in_child(self._after_fork)

    def _reset(self, jobs):
        self._home = self._get_ident()
        self._lock = self._thread.allocate_lock()
        self._wakeup = _Wakeup(self._lock, self._thread.allocate_lock)
        self._queue = collections.deque(jobs)
        self._unfinished = set(jobs)
        self._threads = 0       # started and not yet ended
        self._idle = 0          # of those, waiting for a job
        self._generation = object()

    def _after_fork(self):
        """In a forked child: the parent's threads are gone, its locks may be
        held; run its unfinished jobs again here (their waiters were copied
        into the child too)."""
        self._reset([job for job in self._unfinished if not job.done])
        self._forked = True

    def run(self, function, *args):
        """``function(*args)``, run in a pool thread; its result or its
        exception, as if called here."""
        forks.check()
        if self._closed or self._get_ident() != self._home:
            return function(*args)
        job = _Job(function, args)
        with self._lock:
            self._queue.append(job)
            self._unfinished.add(job)
            self._wakeup.notify()
        self._start_threads()
        try:
            self._wait(job)
        except BaseException:   # the waiter was killed or timed out
            self._withdraw(job)
            raise
        return job.outcome()

    def _wait(self, job):
        start = clock()
        while not job.done:
            waited = clock() - start
            self._sleep(min(max(waited * POLL_FRACTION, POLL_MIN), POLL_MAX))
            forks.check()
            self._start_threads()   # after a fork: the re-queued jobs need threads

    def _withdraw(self, job):
        with self._lock:
            self._unfinished.discard(job)
            if job in self._queue:
                self._queue.remove(job)

    def _start_threads(self):
        """Start a thread for each queued job no idle thread will take,
        up to ``max_threads`` in all."""
        with self._lock:
            wanted = min(len(self._queue) - self._idle, self.max_threads - self._threads)
            if wanted <= 0 or self._closed:
                return
            self._threads += wanted
            generation = self._generation
        for _ in range(wanted):
            # a bare OS thread, as eventlet.tpool and gevent's thread pool
            # start theirs: like a daemon thread, never joined at exit
            self._thread.start_new_thread(self._work, (generation,))

    def _work(self, generation):
        if self._forked:
            forget_inherited_resolver_state()
        while True:
            with self._lock:
                if generation is not self._generation:
                    return   # a fork reset the pool (cannot happen to a live thread)
                while not self._queue and not self._closed:
                    self._idle += 1
                    self._wakeup.wait()
                    self._idle -= 1
                if self._closed and not self._queue:
                    self._threads -= 1
                    return
                job = self._queue.popleft()
            job.run()
            with self._lock:
                self._unfinished.discard(job)

    def close(self):
        """Let idle threads end, busy ones after their job; later calls run
        in the caller's thread.  Children forked later forget this pool."""
        forks.forget(self._after_fork)
        with self._lock:
            self._closed = True
            self._wakeup.notify_all()

    def stats(self):
        """``threads`` started and alive, ``busy`` with a job, ``queued``."""
        with self._lock:
            return {"threads": self._threads, "busy": self._threads - self._idle,
                    "queued": len(self._queue)}
