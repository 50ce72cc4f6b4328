"""A file parsed again only when it changes."""

from __future__ import absolute_import

import os
import time

#: A file whose modification time is this recent (seconds) is read again on
#: every access, changed or not: file times are coarse (a kernel tick), so a
#: rewrite soon after a read can leave size, inode and times as they were.
RACY_WINDOW = 2.0


class WatchedFile(object):
    """``value`` is ``parse(text)`` of the file's current contents; a missing
    or unreadable file parses as empty text.

    A change is noticed as glibc notices one in resolv.conf
    (``file_change_detection``: size, inode, modification and change times),
    with one ``os.stat()`` per access; the parse happens only when the file
    changed.  glibc reads /etc/hosts afresh on every lookup, so a change must
    never be missed: while the file's modification time is within
    :data:`RACY_WINDOW` of now it is read again on every access (the "racily
    clean" problem of git's index), which costs nothing once the file has
    settled.  ``frozen``: once loaded, never read again (resolv.conf's
    ``options no-reload``)."""

    def __init__(self, path, parse):
        self.path = path
        self._parse = parse
        self._stat = None
        self._text = None
        self._value = None
        self._loaded = False
        self.frozen = False
        #: Changes whenever the contents do (also for a racy rewrite that
        #: left the stat data as it was).
        self.signature = None

    @property
    def value(self):
        if self.frozen and self._loaded:
            return self._value
        try:
            st = os.stat(self.path)
            stat = (getattr(st, "st_mtime_ns", st.st_mtime), st.st_size, st.st_ino,
                    st.st_dev, getattr(st, "st_ctime_ns", st.st_ctime))
            racy = abs(time.time() - st.st_mtime) < RACY_WINDOW
        except OSError:
            stat = None
            racy = False
        if not self._loaded or stat != self._stat or racy:
            text = self._read() if stat else ""
            if not self._loaded or text != self._text:
                self._value = self._parse(text)
                self._text = text
                self.signature = (stat, hash(text))
            self._stat = stat
            self._loaded = True
        return self._value

    @property
    def current_signature(self):
        """``signature`` after a check of the file (one ``os.stat()``)."""
        self.value
        return self.signature

    def _read(self):
        try:
            with open(self.path, "rb") as handle:
                return handle.read().decode("latin-1")
        except (IOError, OSError):
            return ""


def signatures(files):
    """The current signatures of :class:`WatchedFile` objects, as a tuple."""
    return tuple(watched.current_signature for watched in files)


class SystemFiles(object):
    """What libc's answers depend on, for a backend that asks libc: the
    files glibc reads for ``getaddrinfo()`` (``files`` and ``dns`` sources,
    address sorting, services).  ``signature`` changes when one does."""

    PATHS = ("/etc/hosts", "/etc/resolv.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
             "/etc/services")

    def __init__(self, paths=PATHS):
        self._files = [WatchedFile(path, _nothing) for path in paths]

    @property
    def signature(self):
        return signatures(self._files)


def _nothing(text):
    return None
