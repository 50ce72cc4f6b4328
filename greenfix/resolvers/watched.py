"""A file parsed again only when it changes (mtime, size or inode)."""

from __future__ import absolute_import

import os


class WatchedFile(object):
    """``value`` is ``parse(text)`` of the file's current contents; a missing
    or unreadable file parses as empty text.  Each access costs one
    ``os.stat()``; the parse happens only when the file changed."""

    def __init__(self, path, parse):
        self.path = path
        self._parse = parse
        self.signature = None
        self._value = None
        self._loaded = False

    @property
    def value(self):
        try:
            st = os.stat(self.path)
            signature = (st.st_mtime, st.st_size, st.st_ino)
        except OSError:
            signature = None
        if not self._loaded or signature != self.signature:
            self._value = self._parse(self._read() if signature else "")
            self.signature = signature
            self._loaded = True
        return self._value

    def _read(self):
        try:
            with open(self.path, "rb") as handle:
                return handle.read().decode("latin-1")
        except (IOError, OSError):
            return ""
