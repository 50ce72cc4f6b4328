"""The hub watchdog: notice a blocked hub while it is blocked.

A *ticker* runs on the hub every ``threshold / 3`` seconds (a hub timer, no
greenlet) and notes the time.  A *monitor* in a native OS thread (the
framework's original, unpatched thread module) wakes as often and checks how
overdue the next tick is.  More than ``threshold`` overdue means the hub has
not run for that long: the monitor samples the hub thread's stack from
``sys._current_frames()`` and reports at once, while the block lasts.  When
the hub runs again, its first tick measures how late it came (the block's
total) and reports the end.  One report per block plus one for its end.

Why the reports travel the way they do (see docs/watchdog.rst): in a
monkey-patched process every ``threading`` lock is green, logging's handler
locks included, and a native thread must never take a green lock (held by a
green thread it waits forever: the hub that would wake it is the thing that
is blocked; free, its release wakes waiters through a hub of the wrong
thread).  So the monitor thread formats the report itself and

* hands the log record at once to the handlers whose lock is native (a plain
  ``_thread.RLock``, e.g. one given by :func:`use_native_lock`), taking that
  lock without blocking;
* if no handler took it, writes the text with ``os.write`` to file
  descriptor 2 (no Python lock on the way);
* queues the record for the hub: the next tick spawns a greenlet that hands
  it to the remaining (green) handlers, so no handler loses it.

The ticker never waits for anything; logging through green handlers happens
in that separate greenlet, so a slow handler cannot stall the ticker and be
mistaken for a block.
"""

from __future__ import absolute_import, division

import collections
import contextlib
import logging
import os
import socket
import sys
import traceback

from greenfix import frameworks
from greenfix.compat import PY2, clock
from greenfix.errors import GreenfixError

__all__ = ["start", "stop", "is_running", "current", "stats", "start_from_environment",
           "no_block", "no_hub_lookups", "use_native_lock", "Watchdog", "Block",
           "HubBlocked", "HubLookup", "DEFAULT_THRESHOLD", "ENV_VARIABLE", "LOGGER_NAME",
           "KEEP_BLOCKS"]

DEFAULT_THRESHOLD = 0.1
ENV_VARIABLE = "GREENFIX_WATCHDOG"
LOGGER_NAME = "greenfix.watchdog"
#: Blocks a watchdog keeps (the newest); counters cover all of them.
KEEP_BLOCKS = 100

_logger = logging.getLogger(LOGGER_NAME)


class HubBlocked(AssertionError):
    """Raised by :func:`no_block` when the hub was blocked too long."""


class HubLookup(AssertionError):
    """Raised by :func:`no_hub_lookups` when a host name reached libc on the
    hub thread."""


class Block(object):
    """One time the hub did not run for longer than the threshold.

    ``duration`` is seconds so far while ``ended`` is False, the total once
    True; ``stack`` is the hub thread's traceback text as sampled while it
    was blocked (None when the block ended before a sample), ``where`` its
    innermost frame ("function (file:line)")."""

    def __init__(self, number, started):
        self.number = number
        self.started = started
        self.duration = 0.0
        self.ended = False
        self.stack = None
        self.where = None
        self.source = None

    def describe(self):
        """One-line summary (no stack)."""
        if self.ended:
            text = "hub blocked for %.3f s in total" % (self.duration,)
        else:
            text = "hub blocked for %.3f s so far" % (self.duration,)
        if self.where is None:
            return text + " (ended before the watchdog sampled its stack)"
        text += ", in %s" % (self.where,)
        return text + (": %s" % (self.source,) if self.source else "")

    def __repr__(self):
        return "<greenfix.watchdog.Block #%d %s>" % (self.number, self.describe())


def _sample_stack(block, frame):
    """Fill ``block.stack``, ``where`` and ``source`` from ``frame`` (the
    hub thread's innermost frame)."""
    entries = traceback.extract_stack(frame)
    if not entries:
        return
    filename, lineno, name, line = tuple(entries[-1])[:4]
    block.where = "%s (%s:%d)" % (name, filename, lineno)
    block.source = line
    block.stack = "Traceback of the hub thread (most recent call last):\n" + "".join(
        traceback.format_list(entries))


def _is_native_lock(lock, native_types):
    """Whether ``lock`` is None or a native lock (safe for a native thread)."""
    return lock is None or type(lock) in native_types


def _handlers_for(logger, record):
    """The handlers ``logger.handle(record)`` would call, found without any
    lock (mirrors logging's Logger.handle and callHandlers)."""
    if logger.disabled or logger.manager.disable >= record.levelno:
        return []
    if record.levelno < logger.getEffectiveLevel() or not logger.filter(record):
        return []
    found, current = [], logger
    while current is not None:
        found.extend(h for h in current.handlers if record.levelno >= h.level)
        if not current.propagate:
            break
        current = current.parent
    return found


def _make_record(logger, block, message):
    if block.stack is not None and not block.ended:
        message = message + "\n" + block.stack.rstrip("\n")
    record = logger.makeRecord(logger.name, logging.WARNING, __file__, 0, message, (), None)
    record.greenfix_block = block
    return record


class Watchdog(object):
    """One watchdog: a ticker on the caller's hub and a monitor OS thread.

    ``callback(block)``, if given, is called in the monitor's OS thread: once
    while the block lasts (``block.ended`` False) and once after it ended.
    It must not touch green objects (green locks, green sockets, logging
    through green handlers).  ``log=False``: no logging, no stderr (only
    ``blocks`` and the counters).  ``stderr``: "auto" (when no handler took
    the report at once), True (always), False (never)."""

    def __init__(self, threshold=DEFAULT_THRESHOLD, callback=None, log=True, stderr="auto",
                 framework=None, logger=None):
        threshold = float(threshold)
        if not threshold > 0:
            raise GreenfixError("watchdog threshold must be > 0 seconds, not %r" % (threshold,))
        self.threshold = threshold
        # A third of the threshold: a block is reported at most
        # threshold + 2 intervals after it began.  A quarter cost Python 2.7
        # 1.12 % of a core idle (benchmarks/bench_watchdog.py), over the 1 %
        # budget; a third costs it about 0.8 %, Python 3 about 0.5 %.
        self.interval = threshold / 3
        self.callback = callback
        self.log = log
        self.stderr = stderr
        self.logger = logger if logger is not None else _logger
        self.framework_name = framework or frameworks.detect()
        if self.framework_name is None:
            raise GreenfixError("greenfix.watchdog needs eventlet or gevent imported "
                                "(or start(framework=...))")
        self.blocks = collections.deque(maxlen=KEEP_BLOCKS)
        self.counts = {"blocks": 0, "reported": 0, "worst": 0.0, "worst_where": None}
        self._running = False

    # -- lifecycle (hub thread) ------------------------------------------------

    def start(self):
        framework = frameworks.load(self.framework_name)
        thread = framework.original_thread()
        self._framework = framework
        self._lock = thread.allocate_lock()       # native: guards _open and counts
        self._wake = thread.allocate_lock()       # held while running; stop() releases it
        self._wake.acquire()
        self._exited = thread.allocate_lock()     # released by the monitor's last act
        self._exited.acquire()
        self._native_lock_types = _native_lock_types(thread)
        self._outbox = collections.deque()        # records for the hub's greenlet
        self._to_callback = collections.deque()   # ended blocks for the monitor
        self._delivering = False
        self._open = None
        self._hub_ident = framework.hub_thread_ident()
        self._last_tick = clock()
        self._stopping = False
        self._cancel_ticker = framework.call_every(self.interval, self._tick)
        self._running = True
        thread.start_new_thread(self._monitor, ())
        return self

    def stop(self):
        """Stop the monitor thread (waits for it) and the ticker; close and
        report a block still open.  Call it on the hub's thread."""
        if not self._running:
            return
        self._running = False
        self._cancel_ticker()
        self._tick()            # closes a block that lasted until now
        self._stopping = True
        self._wake.release()
        self._exited.acquire()  # the monitor's last act; then its thread ends
        self._run_callbacks()
        self._deliver()

    @property
    def running(self):
        return self._running

    def stats(self):
        with self._lock:
            open_block = self._open
            data = dict(self.counts)
        data.update(running=self._running, threshold=self.threshold,
                    blocked_now=open_block is not None)
        return data

    # -- hub side ------------------------------------------------------------

    def _tick(self):
        """On the hub every ``interval``: note the time; close a block."""
        now = clock()
        late = now - (self._last_tick + self.interval)
        self._last_tick = now
        if late > self.threshold or self._open is not None:
            self._close_block(now, late)
        if self._outbox and not self._delivering:
            self._delivering = True
            self._framework.spawn(self._deliver)

    def _close_block(self, now, late):
        with self._lock:
            block, self._open = self._open, None
            if block is None:                  # ended between two samples
                block = self._new_block(now - late)
            block.duration = max(late, now - block.started)
            block.ended = True
            self._count_end(block)
        if self.log:
            self._outbox.append((_make_record(self.logger, block, block.describe()), ()))
        if self.callback is not None:
            self._to_callback.append(block)

    def _deliver(self):
        """In a greenlet: hand queued records to the handlers that have not
        had them yet."""
        try:
            while self._outbox:
                record, delivered = self._outbox.popleft()
                handlers = [h for h in _handlers_for(self.logger, record) if h not in delivered]
                for handler in handlers:
                    handler.handle(record)
                if not handlers and not delivered and record.greenfix_block.ended:
                    self._write_stderr(record)
        finally:
            self._delivering = False

    # -- monitor side (native thread) ---------------------------------------------

    def _monitor(self):
        try:
            while not self._stopping:
                self._wait(self.interval)
                if self._stopping:
                    break
                self._check()
                self._run_callbacks()
        finally:
            self._exited.release()

    def _wait(self, seconds):
        # Lock.acquire(timeout=) is Python 3.2+; on 2.7 the original sleep
        # (stop() then waits up to one interval).  Decided once, not by a
        # TypeError per wake-up: that cost 2.7 a tenth of the idle budget.
        if PY2:
            self._framework.original_sleep(seconds)
        elif self._wake.acquire(True, seconds):
            self._wake.release()

    def _check(self):
        with self._lock:
            if self._open is not None:
                return
            overdue = clock() - (self._last_tick + self.interval)
            if overdue <= self.threshold:
                return
            block = self._open = self._new_block(self._last_tick + self.interval)
            block.duration = overdue
            frame = sys._current_frames().get(self._hub_ident)
            if frame is not None:
                _sample_stack(block, frame)
            del frame
            self.counts["reported"] += 1
        self._report_now(block)

    def _report_now(self, block):
        """From the monitor thread: the report while the block lasts."""
        if self.callback is not None:
            self._call(block)
        if not self.log:
            return
        record = _make_record(self.logger, block, block.describe())
        delivered = []
        for handler in _handlers_for(self.logger, record):
            if _is_native_lock(handler.lock, self._native_lock_types) and \
                    self._handle_natively(handler, record):
                delivered.append(handler)
        if self.stderr is True or (self.stderr == "auto" and not delivered):
            self._write_stderr(record)
        self._outbox.append((record, tuple(delivered)))

    def _handle_natively(self, handler, record):
        lock = handler.lock
        if lock is not None and not lock.acquire(False):
            return False
        try:
            handler.handle(record)
        finally:
            if lock is not None:
                lock.release()
        return True

    def _write_stderr(self, record):
        if self.stderr is False:
            return
        text = "%s: %s\n" % (self.logger.name, record.getMessage())
        try:
            os.write(2, text.encode("utf-8", "replace"))
        except OSError:
            pass

    def _run_callbacks(self):
        while self._to_callback:
            self._call(self._to_callback.popleft())

    def _call(self, block):
        try:
            self.callback(block)
        except Exception:
            traceback.print_exc()

    # -- shared --------------------------------------------------------------

    def _new_block(self, started):
        """A new Block (caller holds ``_lock``)."""
        self.counts["blocks"] += 1
        block = Block(self.counts["blocks"], started)
        self.blocks.append(block)
        return block

    def _count_end(self, block):
        if block.duration > self.counts["worst"]:
            self.counts["worst"] = block.duration
            self.counts["worst_where"] = block.where


def _native_lock_types(thread):
    """Types of native locks: the original lock, the C RLock (Python 3) and
    :class:`_NativeRLock`."""
    types = set([type(thread.allocate_lock()), _NativeRLock])
    rlock = getattr(thread, "RLock", None)
    if rlock is not None:
        types.add(rlock)
    return frozenset(types)


class _NativeRLock(object):
    """A reentrant lock on the original thread module, for Python 2, whose
    thread module has no C RLock (threading.RLock unpatched, in short)."""

    def __init__(self, thread):
        self._block = thread.allocate_lock()
        self._get_ident = thread.get_ident
        self._owner = None
        self._count = 0

    def acquire(self, blocking=True):
        me = self._get_ident()
        if self._owner == me:
            self._count += 1
            return True
        if not self._block.acquire(blocking):
            return False
        self._owner, self._count = me, 1
        return True

    def release(self):
        if self._owner != self._get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if not self._count:
            self._owner = None
            self._block.release()

    __enter__ = acquire

    def __exit__(self, *exc_info):
        self.release()


def _thread_module(framework=None):
    """The original low-level thread module of ``framework`` (detected when
    None), or the plain one when no framework is imported."""
    name = framework or frameworks.detect()
    if name is not None:
        return frameworks.load(name).original_thread()
    import six.moves._thread as thread   # "thread" on Python 2, "_thread" on 3
    return thread


def use_native_lock(handler, framework=None):
    """Give logging ``handler`` a native reentrant lock, so that the watchdog
    can hand it a report from its OS thread while the hub is blocked.  Only
    for handlers whose ``emit`` never yields to the hub (files, terminals,
    ``os.write``): a green thread that yielded while holding a native lock
    would block the hub thread's next taker.  Returns ``handler``."""
    thread = _thread_module(framework)
    rlock = getattr(thread, "RLock", None)
    handler.lock = rlock() if rlock is not None else _NativeRLock(thread)
    return handler


# -- the process's watchdog ------------------------------------------------------

_current = [None]   # the running Watchdog started by start(), or None
_last = [None]      # the last one started (its counters stay after stop())


def start(threshold=DEFAULT_THRESHOLD, callback=None, stderr="auto", framework=None):
    """Start the process's watchdog on the caller's hub (see
    docs/watchdog.rst).  Returns True if it started, False if one was
    already running (the first keeps its options)."""
    if _current[0] is not None:
        return False
    watchdog = Watchdog(threshold, callback=callback, stderr=stderr, framework=framework)
    watchdog.start()
    _current[0] = _last[0] = watchdog
    return True


def stop():
    """Stop the process's watchdog and wait for its thread to end.  Returns
    False if none was running."""
    watchdog, _current[0] = _current[0], None
    if watchdog is None:
        return False
    watchdog.stop()
    return True


def is_running():
    return _current[0] is not None


def current():
    """The running :class:`Watchdog` started by :func:`start`, or None."""
    return _current[0]


def stats():
    """Counters of the process's watchdog (the last one started): ``running``,
    ``threshold``, ``blocks`` (blocks longer than the threshold),
    ``reported`` (those reported while they lasted), ``worst`` (seconds),
    ``worst_where`` and ``blocked_now``."""
    watchdog = _last[0]
    if watchdog is None:
        return {"running": False, "threshold": None, "blocks": 0, "reported": 0,
                "worst": 0.0, "worst_where": None, "blocked_now": False}
    return watchdog.stats()


def start_from_environment():
    """``GREENFIX_WATCHDOG=<seconds>``: start the watchdog with that
    threshold (unset or empty: nothing).  Called by ``greenfix.patch()``."""
    value = os.environ.get(ENV_VARIABLE, "").strip()
    if not value:
        return False
    try:
        threshold = float(value)
    except ValueError:
        raise GreenfixError("%s must be a number of seconds, not %r" % (ENV_VARIABLE, value))
    return start(threshold)


# -- for tests ---------------------------------------------------------------------

def _describe_blocks(blocks, limit):
    parts = ["the hub was blocked longer than %.0f ms:" % (limit * 1000,)]
    for block in blocks:
        parts.append(block.describe())
        if block.stack:
            parts.append(block.stack.rstrip("\n"))
    return "\n".join(parts)


@contextlib.contextmanager
def no_block(max_ms, framework=None):
    """Raise :class:`HubBlocked` (an AssertionError) at the end of the
    ``with`` block if the hub was blocked longer than ``max_ms`` meanwhile;
    the message holds each such block's stack.  Runs a watchdog of its own
    (threshold ``max_ms / 2``, no logging) for the block's duration; yields
    it.  Call it on the hub's thread."""
    limit = max_ms / 1000.0
    watchdog = Watchdog(limit / 2, log=False, framework=framework)
    watchdog.start()
    try:
        yield watchdog
    finally:
        watchdog.stop()
    too_long = [block for block in watchdog.blocks if block.duration > limit]
    if too_long:
        raise HubBlocked(_describe_blocks(too_long, limit))


# -- strict mode: host names that reach libc on the hub thread --------------------

#: CPython's audit events (3.8+) that carry a host libc may resolve, and
#: where the host is: (index of the address or host in the event's args,
#: whether that is an address tuple).  The method events (connect, also
#: raised by connect_ex; bind; sendto; sendmsg) are raised after
#: getsockaddrarg() resolved the name, and not at all when it failed.
_LOOKUP_EVENTS = {
    "socket.getaddrinfo": (0, False),
    "socket.gethostbyname": (0, False),     # gethostbyname and gethostbyname_ex
    "socket.gethostbyaddr": (0, False),
    "socket.connect": (1, True),
    "socket.bind": (1, True),
    "socket.sendto": (1, True),
    "socket.sendmsg": (1, True),
}

_INET_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_lookup_watch = [None]       # (get_ident, hub ident, found list) while watched
_audit_hook_installed = [False]


def _is_host_name(host):
    """Whether libc would look ``host`` up (not "", "<broadcast>" or a
    numeric address, which setipaddr() and getaddrinfo() take without DNS)."""
    if isinstance(host, bytes):
        try:
            host = host.decode("ascii")
        except UnicodeDecodeError:
            return True
    if not isinstance(host, str) or host in ("", "<broadcast>"):
        return False
    for family, text in ((socket.AF_INET, host), (socket.AF_INET6, host.split("%", 1)[0])):
        try:
            socket.inet_pton(family, text)
            return False
        except (socket.error, ValueError):
            pass
    try:
        socket.inet_aton(host)   # legacy IPv4 forms (127.1): numeric for getaddrinfo
        return False
    except (socket.error, ValueError):
        return True


def _host_in(event, args):
    """The host of an audited lookup event, or None."""
    index, is_address = _LOOKUP_EVENTS[event]
    value = args[index]
    if not is_address:
        return value
    if not isinstance(value, tuple) or not value or args[0].family not in _INET_FAMILIES:
        return None   # not an AF_UNIX path or other families' addresses
    return value[0]


def _audit(event, args):
    watch = _lookup_watch[0]
    if watch is None or event not in _LOOKUP_EVENTS:
        return
    try:
        get_ident, hub_ident, found = watch
        host = _host_in(event, args)
        if host is not None and _is_host_name(host) and get_ident() == hub_ident:
            stack = "".join(traceback.format_stack(sys._getframe(1)))
            found.append("%s(%r) on the hub thread:\n%s" % (event, host, stack))
    except Exception:   # an audit hook must never break the audited call
        pass


@contextlib.contextmanager
def no_hub_lookups(framework=None):
    """Raise :class:`HubLookup` at the end of the ``with`` block if a host
    name (not a numeric address) reached libc on the hub thread meanwhile:
    ``socket.getaddrinfo``/``gethostbyname``/``gethostbyaddr`` of the C
    module, or a socket method (connect, connect_ex, bind, sendto, sendmsg)
    given a name it resolved.  Code that bypasses greenfix.  Needs Python
    3.8+ (``sys.addaudithook``); yields the list of findings."""
    if not hasattr(sys, "addaudithook"):   # Python < 3.8: no audit events
        raise GreenfixError("greenfix.watchdog.no_hub_lookups needs Python 3.8+ (audit hooks)")
    name = framework or frameworks.detect()
    if name is None:
        raise GreenfixError("no_hub_lookups needs eventlet or gevent imported")
    framework_module = frameworks.load(name)
    if not _audit_hook_installed[0]:
        sys.addaudithook(_audit)   # for the process's life: hooks cannot be removed
        _audit_hook_installed[0] = True
    found = []
    outer = _lookup_watch[0]
    _lookup_watch[0] = (framework_module.original_thread().get_ident,
                        framework_module.hub_thread_ident(), found)
    try:
        yield found
    finally:
        _lookup_watch[0] = outer
    if found:
        raise HubLookup("a host name reached libc on the hub thread:\n" + "\n".join(found))
