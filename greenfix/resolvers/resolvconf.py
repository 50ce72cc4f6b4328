"""resolv.conf read as glibc reads it (``resolv/res_init.c``).

dnspython has a resolv.conf reader, but it keeps every nameserver line, lets
``domain`` and ``search`` coexist, ignores ``attempts`` and the environment,
and caps nothing; glibc's resolver, whose behaviour greenfix must reproduce,
does all of those differently.  The file is small and line-oriented, so it is
parsed here, following glibc's ``res_vinit_1()`` and ``res_setoptions()``:

* a keyword counts only at the very start of a line and followed by a blank
  (``MATCH()``): an indented line is ignored; so is one starting with ``#``
  or ``;``;
* ``nameserver``: the first word after it, an IPv4 address as
  ``inet_aton()`` reads it (``127.1`` too) or an IPv6 one (a ``%scope`` is
  kept); the first ``MAXNS`` (3) are used; none means 127.0.0.1;
* ``search`` and ``domain``: the last such line wins; ``domain x`` is a search
  list of one; neither means the host name's domain; the words are kept as
  written (a ``.`` is the root domain, which res_search queries in its place);
* ``options`` (and then ``$RES_OPTIONS``): each word is matched by its
  prefix, numbers read with ``atoi()``: ``ndots:n`` (at most 15; a
  negative value wraps, and glibc then stops reloading resolv.conf),
  ``timeout:n`` (30), ``attempts:n`` (5), ``rotate``, ``edns0``,
  ``single-request-reopen``, ``single-request``, ``no_tld_query`` /
  ``no-tld-query``, ``no-reload``, ``use-vc``, ``trust-ad``, ``no-aaaa``;
  anything else is ignored (glibc 2.36 no longer knows ``inet6``, ``debug``,
  ``ip6-bytestring``, ``ip6-dotint``);
* ``$LOCALDOMAIN``, when set (even empty), replaces the search list and the
  file's ``search``/``domain`` lines are skipped;
* ``sortlist`` is recorded (greenfix does not reorder answers by it, so
  "auto" leaves such configurations to libc).
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

#: res_setoptions()'s flag table, in its order: the first whose name is a
#: prefix of the word wins ("single-request-reopen" before "single-request").
_FLAGS = (
    ("rotate", "rotate"),
    ("edns0", "edns0"),
    ("single-request-reopen", "single_request_reopen"),
    ("single-request", "single_request"),
    ("no_tld_query", "no_tld_query"),
    ("no-tld-query", "no_tld_query"),
    ("no-reload", "no_reload"),
    ("use-vc", "use_vc"),
    ("trust-ad", "trust_ad"),
    ("no-aaaa", "no_aaaa"),
)


class ResolvConf(object):
    """What glibc's resolver takes from resolv.conf and the environment."""

    def __init__(self):
        self.nameservers = []      # [(ip, port)]
        self.search = []           # [text], as written ("." is the root)
        self.ndots = 1
        self.timeout = DEFAULT_TIMEOUT
        self.attempts = DEFAULT_ATTEMPTS
        self.rotate = False
        self.single_request = False
        self.single_request_reopen = False
        self.edns0 = False
        self.use_vc = False
        self.no_tld_query = False
        self.no_reload = False
        self.trust_ad = False
        self.no_aaaa = False
        self.sortlist = False
        self.stops_reload = False  # a negative ndots (see _apply_options)

    def __repr__(self):
        return "ResolvConf(%s)" % ", ".join(
            "%s=%r" % item for item in sorted(vars(self).items()))


def _atoi(text):
    """C's atoi(): optional blanks and sign, then digits; 0 without any."""
    text = text.lstrip(" \t\n\v\f\r")
    sign = 1
    if text[:1] in ("+", "-"):
        sign = -1 if text[:1] == "-" else 1
        text = text[1:]
    digits = ""
    for char in text:
        if not "0" <= char <= "9":
            break
        digits += char
    return sign * int(digits) if digits else 0


def _nameserver(word):
    """The address glibc takes from a ``nameserver`` word, or None."""
    try:
        # __inet_aton_exact(): inet_aton()'s forms (127.1, 0x7f.1), nothing
        # after them.
        if word and "%" not in word:
            return socket.inet_ntoa(socket.inet_aton(word))
    except (socket.error, ValueError, UnicodeError):
        pass
    address = word.split("%", 1)[0]
    try:
        socket.inet_pton(socket.AF_INET6, address)
    except (socket.error, ValueError, UnicodeError):
        return None
    return word if address else None


def _apply_options(conf, text):
    """res_setoptions() over ``text``."""
    for word in text.replace("\t", " ").split(" "):
        if not word:
            continue
        if word.startswith("ndots:"):
            number = _atoi(word[len("ndots:"):])
            # An unsigned 4-bit field in the end: a negative value wraps.
            conf.ndots = (number if number <= MAX_NDOTS else MAX_NDOTS) & 0x0F
            # The configuration keeps the unwrapped value: from then on
            # glibc's maybe_init() sees _res differ from it ("something
            # modified *ctx->resp") and never reloads resolv.conf again.
            conf.stops_reload = conf.stops_reload or number < 0
        elif word.startswith("timeout:"):
            number = _atoi(word[len("timeout:"):])
            conf.timeout = number if number <= MAX_TIMEOUT else MAX_TIMEOUT
        elif word.startswith("attempts:"):
            number = _atoi(word[len("attempts:"):])
            conf.attempts = number if number <= MAX_ATTEMPTS else MAX_ATTEMPTS
        else:
            for name, attribute in _FLAGS:
                if word.startswith(name):
                    setattr(conf, attribute, True)
                    break


def _match(line, keyword):
    """glibc's MATCH(): the keyword at the start, then a space or a tab."""
    return line.startswith(keyword) and line[len(keyword):len(keyword) + 1] in (" ", "\t")


def _default_domain():
    """domain_from_hostname(): what follows the first dot of the host name."""
    hostname = socket.gethostname()
    _, dot, domain = hostname.partition(".")
    return [domain] if dot else []


def parse(text, environ=None):
    """A :class:`ResolvConf` from the file's text and the environment."""
    environ = os.environ if environ is None else environ
    conf = ResolvConf()
    search = []
    localdomain = environ.get("LOCALDOMAIN")
    if localdomain is not None:
        # Blank-separated names, up to the first newline.
        search = localdomain.split("\n", 1)[0].replace("\t", " ").split(" ")
        search = [search[0]] + [word for word in search[1:] if word]
    for line in text.splitlines():
        if line[:1] in ("#", ";"):
            continue
        if _match(line, "domain"):
            words = line[len("domain"):].split()
            if localdomain is None and words:
                search = [words[0]]
        elif _match(line, "search"):
            rest = line[len("search"):].lstrip(" \t")
            if localdomain is None and rest:
                words = rest.replace("\t", " ").split(" ")
                search = [words[0]] + [word for word in words[1:] if word]
        elif _match(line, "nameserver"):
            words = line[len("nameserver"):].split()
            address = _nameserver(words[0]) if words else None
            if address is not None and len(conf.nameservers) < MAXNS:
                conf.nameservers.append((address, 53))
        elif _match(line, "sortlist"):
            conf.sortlist = bool(line[len("sortlist"):].strip())
        elif _match(line, "options"):
            _apply_options(conf, line[len("options"):])
    if not conf.nameservers:
        conf.nameservers = [("127.0.0.1", 53)]
    if not search:
        search = _default_domain()
    _apply_options(conf, environ.get("RES_OPTIONS", ""))
    conf.search = search
    return conf

