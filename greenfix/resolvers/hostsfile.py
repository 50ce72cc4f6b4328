"""The hosts file, looked up as glibc's ``files`` source does
(``nss/nss_files/files-hosts.c``), and re-read when it changes.

For ``getaddrinfo()`` glibc collects, in file order, the address of every
line whose canonical name or alias equals the name (case-insensitively) and
whose address is of the family asked for; without ``AI_V4MAPPED`` an IPv4
line never answers an IPv6 lookup.  Unlike eventlet's greendns, link-local
(fe80::) lines are kept, and the file is re-read when its mtime, size or inode
changes rather than every 10 seconds.
"""

from __future__ import absolute_import

import socket

from greenfix.resolvers.watched import WatchedFile


def _family_of(address):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, address.split("%", 1)[0] if family == socket.AF_INET6
                             else address)
            return family
        except (socket.error, ValueError):
            continue
    return None


def parse(text):
    """``{(name_lower, family): [address, ...]}`` from a hosts file's text."""
    table = {}
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) < 2:
            continue
        family = _family_of(words[0])
        if family is None:
            continue
        for name in words[1:]:
            table.setdefault((name.lower(), family), []).append(words[0])
    return table


class HostsFile(object):
    """Lookups in one hosts file, re-read when it changes."""

    def __init__(self, path):
        self._file = WatchedFile(path, parse)

    @property
    def signature(self):
        """What identifies the file's current version (for cache checks)."""
        self._file.value
        return self._file.signature

    def lookup(self, name, family):
        """Addresses for ``name`` (text) of ``family``, in file order."""
        return self._file.value.get((name.lower(), family), [])
