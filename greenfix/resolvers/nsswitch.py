"""The ``hosts:`` line of /etc/nsswitch.conf, as far as greenfix needs it.

The green backend can stand in for two glibc sources only: ``files`` and
``dns``, tried in that order with the default actions.  Any other line (mDNS,
``myhostname``, systemd's ``resolve``, ``sss``, ``dns`` before ``files``, an
explicit ``[action]``) means the system answers differently, so "auto" hands
such lookups to libc in the thread pool.  Without a ``hosts:`` line glibc
uses ``dns [!UNAVAIL=return] files``, which is not supported either.
"""

from __future__ import absolute_import

#: The plans the green backend carries out itself.
SUPPORTED = (("files", "dns"), ("files",), ("dns",))
DEFAULT_SUPPORTED = SUPPORTED[0]

#: glibc's built-in default for a missing ``hosts:`` line.
GLIBC_DEFAULT = ("dns", "[!unavail=return]", "files")


def parse_hosts(text):
    """The ``hosts:`` line's words, lowercased (actions kept as words)."""
    words = None
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.lower().startswith("hosts:"):
            # Actions may contain spaces inside the brackets: glue them.
            rest = line[len("hosts:"):].replace("[ ", "[").replace(" ]", "]")
            words = tuple(word.lower() for word in rest.split())
    return words if words else GLIBC_DEFAULT


def supported(words):
    """Whether the green backend answers exactly as this line would."""
    return words in SUPPORTED
