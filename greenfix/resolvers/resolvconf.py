"""resolv.conf read as glibc reads it (``resolv/res_init.c``).

dnspython has a resolv.conf reader, but it keeps every nameserver line, lets
``domain`` and ``search`` coexist, ignores ``attempts`` and the environment,
and caps nothing; glibc's resolver, whose behaviour greenfix must reproduce,
does all of those differently.  The file is small and line-oriented, so it is
parsed here, following glibc:

* ``nameserver``: the first ``MAXNS`` (3) valid addresses; none means
  127.0.0.1;
* ``search`` and ``domain``: the last such line wins; ``domain x`` is a search
  list of one; neither means the host name's domain;
* ``options``: ``ndots:n`` (capped at 15), ``timeout:n`` (30), ``attempts:n``
  (5), ``rotate``, ``single-request``, ``single-request-reopen``, ``edns0``,
  ``use-vc``, ``no-tld-query``; later words win;
* ``$RES_OPTIONS`` is applied over the file's options and ``$LOCALDOMAIN``
  replaces the search list.
"""

from __future__ import absolute_import

import os
import socket

MAXNS = 3
DEFAULT_TIMEOUT = 5   # RES_TIMEOUT
DEFAULT_ATTEMPTS = 2  # RES_DFLRETRY
MAX_TIMEOUT = 30      # RES_MAXRETRANS
MAX_ATTEMPTS = 5      # RES_MAXRETRY
MAX_NDOTS = 15        # RES_MAXNDOTS

_FLAGS = {
    "rotate": "rotate",
    "single-request": "single_request",
    "single-request-reopen": "single_request",
    "edns0": "edns0",
    "use-vc": "use_vc",
    "no-tld-query": "no_tld_query",
}


class ResolvConf(object):
    """What glibc's resolver takes from resolv.conf and the environment."""

    def __init__(self):
        self.nameservers = []      # [(ip, port)]
        self.search = []           # [text], without trailing dots
        self.ndots = 1
        self.timeout = DEFAULT_TIMEOUT
        self.attempts = DEFAULT_ATTEMPTS
        self.rotate = False
        self.single_request = False
        self.edns0 = False
        self.use_vc = False
        self.no_tld_query = False

    def __repr__(self):
        return "ResolvConf(%s)" % ", ".join(
            "%s=%r" % item for item in sorted(vars(self).items()))


def _valid_ip(text):
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text.split("%", 1)[0])
            return True
        except (socket.error, ValueError):
            continue
    return False


def _apply_options(conf, words):
    for word in words:
        name, _, value = word.partition(":")
        if name in ("ndots", "timeout", "attempts"):
            try:
                number = int(value)
            except ValueError:
                continue
            if name == "ndots":
                conf.ndots = min(max(number, 0), MAX_NDOTS)
            elif name == "timeout":
                conf.timeout = min(max(number, 0), MAX_TIMEOUT) or 1
            else:
                conf.attempts = min(max(number, 1), MAX_ATTEMPTS)
        elif name in _FLAGS:
            setattr(conf, _FLAGS[name], True)


def _default_domain():
    hostname = socket.gethostname()
    _, dot, domain = hostname.partition(".")
    return [domain] if dot and domain else []


def parse(text, environ=None):
    """A :class:`ResolvConf` from the file's text and the environment."""
    environ = os.environ if environ is None else environ
    conf = ResolvConf()
    search = None
    for line in text.splitlines():
        words = line.split()
        if not words or words[0][0] in "#;":
            continue
        keyword, args = words[0], words[1:]
        if keyword == "nameserver" and args:
            if len(conf.nameservers) < MAXNS and _valid_ip(args[0]):
                conf.nameservers.append((args[0], 53))
        elif keyword == "domain" and args:
            search = [args[0]]
        elif keyword == "search" and args:
            search = args
        elif keyword == "options":
            _apply_options(conf, args)
    _apply_options(conf, environ.get("RES_OPTIONS", "").split())
    if environ.get("LOCALDOMAIN"):
        search = environ["LOCALDOMAIN"].split()
    if search is None:
        search = _default_domain()
    conf.search = [domain.rstrip(".") for domain in search if domain.rstrip(".")]
    if not conf.nameservers:
        conf.nameservers = [("127.0.0.1", 53)]
    return conf


def read(path, environ=None):
    """Parse the file at ``path``; a missing or unreadable file reads as an
    empty one, as glibc treats it."""
    try:
        with open(path) as handle:
            text = handle.read()
    except (IOError, OSError):
        text = ""
    return parse(text, environ)


def read_budget(path, environ=None):
    """``(timeout, attempts)`` as glibc would use them for ``path``."""
    conf = read(path, environ)
    return conf.timeout, conf.attempts
