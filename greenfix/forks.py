"""What greenfix does in a child process after ``os.fork()``.

A forked child has only the thread that called ``fork()``: every native
thread greenfix started is gone, a lock one of them held stays held, and a
lookup in flight in the parent will never finish in the child.  Objects
that own such state register a callback here; it runs once in each child,
before the child uses them:

* from ``os.register_at_fork(after_in_child=...)`` (Python 3.7+), right
  after ``fork()`` returns in the child, whoever called it
  (``multiprocessing``, gunicorn's arbiter, a daemonizing ``os.fork()``);
* from :func:`check`, which the owners call before using their state: on
  Python 2.7 and 3.6, which have no fork hooks, that is where a child is
  noticed (by its process id), before any lookup in it.

The callbacks must not switch green threads: they only reset state.
"""

from __future__ import absolute_import

import os

_callbacks = []
_pid = [os.getpid()]


def at_fork_in_child(callback):
    """Run ``callback()`` in every child forked from now on (until
    :func:`forget`)."""
    if callback not in _callbacks:
        _callbacks.append(callback)


def forget(callback):
    """Stop running ``callback`` in children (``unpatch()``)."""
    if callback in _callbacks:
        _callbacks.remove(callback)


def check():
    """Run the callbacks if this process is a child that has not run them
    yet (the fork went without the hook: Python < 3.7).  Cheap: one
    ``os.getpid()`` (a cached value in glibc >= 2.25)."""
    if os.getpid() != _pid[0]:
        _after_fork_in_child()


def _after_fork_in_child():
    _pid[0] = os.getpid()
    for callback in list(_callbacks):
        callback()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
