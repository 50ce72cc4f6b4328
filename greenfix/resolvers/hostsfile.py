"""The hosts file, looked up as glibc's ``files`` source does
(``nss/nss_files/files-hosts.c``), and re-read when it changes.

``getaddrinfo()`` asks the source for one family at a time, and glibc parses
every line for that family:

* AF_INET: an IPv4 address (``inet_pton()``: dotted quad only, so ``127.1``
  lines are ignored); an IPv4-mapped IPv6 address stands for its IPv4
  address and ``::1`` for 127.0.0.1; any other IPv6 line is ignored;
* AF_INET6: an IPv6 address (``inet_pton()``: a ``%scope`` suffix makes the
  line invalid, so it is ignored); IPv4 lines are ignored;

a line answers when its canonical name or an alias equals the name, ASCII
case-insensitively (``strcasecmp``); ``#`` starts a comment; fields are
separated by C ``isspace`` characters.  The first such line answers; with
``multi on`` in /etc/host.conf (or ``$RESOLV_MULTI``), the addresses of every
later matching line are added in file order.  Unlike eventlet's greendns,
link-local (fe80::) lines are kept, and the file is re-read when it changes
(see :class:`~greenfix.resolvers.watched.WatchedFile`) rather than every 10
seconds.
"""

from __future__ import absolute_import

import os
import re
import socket

from greenfix.resolvers.sorting import LOOPBACK6
from greenfix.resolvers.watched import WatchedFile

_BLANKS = re.compile(u"[ \t\n\v\f\r]+")
_UPPER = u"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ASCII_LOWER = dict((ord(c), ord(c.lower())) for c in _UPPER)
_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"


def ascii_lower(text):
    """``text`` with only A-Z lowered, as strcasecmp() compares."""
    return text.translate(_ASCII_LOWER)


def _address(text, family):
    """The address a line's first field gives for ``family``, or None."""
    try:
        if family == socket.AF_INET:
            try:
                socket.inet_pton(socket.AF_INET, text)
                return text
            except (socket.error, ValueError):
                packed = socket.inet_pton(socket.AF_INET6, text)
            if packed[:12] == _MAPPED_PREFIX:
                return socket.inet_ntop(socket.AF_INET, packed[12:])
            if packed == LOOPBACK6:
                return "127.0.0.1"
            return None
        return socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, text))
    except (socket.error, ValueError, UnicodeError):
        return None


def entries(text):
    """``(address_text, [name, ...])`` for each line of a hosts file's text
    that glibc reads for some family (an address, then at least one name)."""
    for line in text.split(u"\n"):
        words = _BLANKS.split(line.split(u"#", 1)[0].strip(u" \t\n\v\f\r"))
        if len(words) < 2 or not words[0]:
            continue
        if any(_address(words[0], family) is not None
               for family in (socket.AF_INET, socket.AF_INET6)):
            yield words[0], words[1:]


def parse(text):
    """``{(name_lower, family): [address, ...]}`` from a hosts file's text:
    for each name the addresses of the lines naming it, in file order."""
    table = {}
    for word, names in entries(text):
        for family in (socket.AF_INET, socket.AF_INET6):
            address = _address(word, family)
            if address is None:
                continue
            seen = set()
            for name in names:
                key = (ascii_lower(name), family)
                if key not in seen:  # a line counts once for a name
                    seen.add(key)
                    table.setdefault(key, []).append(address)
    return table


def _parse_host_conf(text):
    """Whether /etc/host.conf says ``multi on`` (res_hconf.c)."""
    multi = False
    for line in text.split(u"\n"):
        words = _BLANKS.split(line.split(u"#", 1)[0].strip())
        if len(words) >= 2 and ascii_lower(words[0]) == u"multi":
            multi = ascii_lower(words[1]) == u"on"
    return multi


class HostsFile(object):
    """Lookups in one hosts file, re-read when it changes.

    ``host_conf``: the host.conf whose ``multi`` setting applies; glibc
    reads it once per process, and so does this (``$RESOLV_MULTI`` wins)."""

    def __init__(self, path, host_conf="/etc/host.conf"):
        self._file = WatchedFile(path, parse)
        multi = os.environ.get("RESOLV_MULTI")
        if multi is not None:
            if isinstance(multi, bytes):
                multi = multi.decode("latin-1")
            self.multi = ascii_lower(multi.strip()) == u"on"
        else:
            self.multi = WatchedFile(host_conf, _parse_host_conf).value

    @property
    def signature(self):
        """What identifies the file's current version (for cache checks)."""
        return self._file.current_signature

    def lookup(self, name, family):
        """Addresses for ``name`` (text) of ``family``: the first matching
        line's, then (``multi on``) every later matching line's."""
        addresses = self._file.value.get((ascii_lower(name), family), [])
        return addresses if self.multi else addresses[:1]
