"""The options ``greenfix.patch()`` takes and the environment variables
greenfix reads, each checked here and nowhere else, once, at patch time.

A value that is not accepted raises :class:`~greenfix.errors.GreenfixError`
naming the option (or variable), the value and what is accepted; no other
exception escapes :class:`Options`.  An unknown keyword raises
:class:`UnknownOptionError`, a GreenfixError that is also the TypeError
Python raises for any function's unknown keyword.  docs/usage.rst holds the
reference; tests/test_options.py checks it against the tables below.
"""

from __future__ import absolute_import

import math
import numbers
import os
import socket

import six

from greenfix.errors import GreenfixError

RESOLVERS = ("auto", "greendns", "threadpool")

#: Environment variable that sets the default of ``patch(resolver=...)``.
RESOLVER_ENV = "GREENFIX_RESOLVER"

#: Every environment variable of greenfix's own, and the option it sets.
ENVIRONMENT = {RESOLVER_ENV: "resolver"}

#: Variables the resolver reads as their owners do (glibc's resolver and
#: nss_files, eventlet), so accepting what they accept: never refused here.
FOREIGN_ENVIRONMENT = ("RES_OPTIONS", "LOCALDOMAIN", "HOSTALIASES", "RESOLV_MULTI",
                       "EVENTLET_NO_GREENDNS")

#: glibc's caps on resolv.conf's ``timeout:`` (RES_MAXRETRANS) and
#: ``attempts:`` (RES_MAXRETRY), resolv/resolv.h; res_setoptions() clamps a
#: file's larger value silently, an explicit option beyond them is refused.
MAX_TIMEOUT = 30
MAX_ATTEMPTS = 5

#: Largest ``max_ttl`` accepted (c-ares' cap).
MAX_TTL_LIMIT = 3600

_DEFAULTS = {
    # "auto", "greendns" or "threadpool"; None means $GREENFIX_RESOLVER or "auto".
    "resolver": None,
    # resolv.conf to read (nameservers, search, ndots, options timeout/attempts).
    "resolv_conf": "/etc/resolv.conf",
    # hosts file consulted before DNS.
    "hosts": "/etc/hosts",
    # nsswitch.conf, whose hosts: line decides what "auto" answers itself.
    "nsswitch": "/etc/nsswitch.conf",
    # Nameservers overriding resolv.conf's: "ip" or "ip:port" ("[v6]:port").
    "nameservers": None,
    # Answer socket.getaddrinfo/gethostbyname/gethostbyname_ex like libc
    # (instead of eventlet's greendns), without blocking the hub.
    "lookups": True,
    # The most native threads greenfix's own lookup pool may run.
    "lookup_threads": 20,
    # Per-try timeout and tries per nameserver, overriding resolv.conf's.
    "timeout": None,
    "attempts": None,
    # The answer cache (greenfix/cache.py, docs/cache.rst); times in seconds.
    # Entries kept at most (LRU); 0 turns caching off.
    "cache_size": 10000,
    # Clamp on every answer's TTL (max_ttl at most MAX_TTL_LIMIT).
    "min_ttl": 1,
    "max_ttl": 3600,
    # TTL of answers without one (thread-pool backend, hosts file).
    "default_ttl": 30,
    # EAI_NONAME/EAI_NODATA: TTL when DNS gave no SOA, and the upper clamp.
    "negative_ttl": 5,
    "max_negative_ttl": 300,
    # EAI_AGAIN/EAI_FAIL held this long; failed refreshes retried after it.
    "hold_down": 2,
    # RFC 8767: serve an expired answer while refreshing it, for up to
    # max_stale after its expiry while refreshes fail.
    "serve_stale": True,
    "max_stale": 86400,
}

_CACHE_SECONDS = ("min_ttl", "max_ttl", "default_ttl", "negative_ttl",
                  "max_negative_ttl", "hold_down", "max_stale")


class UnknownOptionError(GreenfixError, TypeError):
    """``patch()`` or :class:`Options` got a keyword it does not know."""


def invalid(name, value, accepted, why=""):
    """The GreenfixError for option ``name`` given ``value``."""
    return GreenfixError("greenfix option %s=%r is not accepted%s: expected %s"
                         % (name, value, " (%s)" % why if why else "", accepted))


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_finite_number(value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    try:
        return not (math.isinf(value) or math.isnan(value))
    except (TypeError, ValueError, OverflowError):
        return False


def _number(value):
    """An int stays an int; other real numbers become floats."""
    return int(value) if _is_int(value) else float(value)


def _check_path(name, value):
    accepted = "a file path (str or os.PathLike), not empty, without NUL"
    fspath = getattr(os, "fspath", None)
    if fspath is not None and not isinstance(value, (six.string_types, bytes)):
        try:
            value = fspath(value)
        except TypeError:
            raise invalid(name, value, accepted)
    if not isinstance(value, six.string_types) or not value or "\0" in value:
        raise invalid(name, value, accepted)
    return value


def _check_bool(name, value):
    if not isinstance(value, bool):
        raise invalid(name, value, "True or False")
    return value


def _check_timeout(name, value):
    accepted = "None or a number of seconds > 0 and <= %d" % MAX_TIMEOUT
    if value is not None and not (_is_finite_number(value) and 0 < value <= MAX_TIMEOUT):
        raise invalid(name, value, accepted)
    return value if value is None else _number(value)


def _check_attempts(name, value):
    accepted = "None or an integer from 1 to %d" % MAX_ATTEMPTS
    if value is not None and not (_is_int(value) and 1 <= value <= MAX_ATTEMPTS):
        raise invalid(name, value, accepted)
    return value if value is None else int(value)


def _check_lookup_threads(name, value):
    if not (_is_int(value) and value >= 1):
        raise invalid(name, value, "an integer >= 1")
    return int(value)


def _check_cache_size(name, value):
    if not (_is_int(value) and value >= 0):
        raise invalid(name, value, "an integer >= 0")
    return int(value)


def _check_seconds(name, value):
    if not (_is_finite_number(value) and value >= 0):
        raise invalid(name, value, "a number of seconds >= 0")
    return _number(value)


def _check_resolver(name, value):
    if value is None:
        return _resolver_from_environment()
    if not isinstance(value, six.string_types) or value not in RESOLVERS:
        raise invalid(name, value, "None or one of %s" % ", ".join(RESOLVERS))
    return str(value)


def _resolver_from_environment():
    """$GREENFIX_RESOLVER, or "auto" when it is unset or blank."""
    raw = os.environ.get(RESOLVER_ENV, "")
    value = raw.strip() or "auto"
    if value not in RESOLVERS:
        raise GreenfixError(
            "environment variable %s=%r is not accepted: expected one of %s, "
            "or unset or empty for 'auto'" % (RESOLVER_ENV, raw, ", ".join(RESOLVERS)))
    return value


#: The check of every option, in the order they are checked.
_CHECKS = (
    ("resolver", _check_resolver),
    ("resolv_conf", _check_path),
    ("hosts", _check_path),
    ("nsswitch", _check_path),
    ("nameservers", lambda name, value: check_nameservers(value)),
    ("lookups", _check_bool),
    ("lookup_threads", _check_lookup_threads),
    ("timeout", _check_timeout),
    ("attempts", _check_attempts),
    ("cache_size", _check_cache_size),
    ("serve_stale", _check_bool),
) + tuple((key, _check_seconds) for key in _CACHE_SECONDS)

assert sorted(key for key, _ in _CHECKS) == sorted(_DEFAULTS)


class Options(object):
    """Validated ``patch()`` options; attributes mirror the keyword names."""

    __slots__ = tuple(_DEFAULTS)

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(_DEFAULTS))
        if unknown:
            raise UnknownOptionError(
                "patch() got an unexpected keyword argument %r (greenfix options: %s)"
                % (unknown[0], ", ".join(sorted(_DEFAULTS))))
        for key, check in _CHECKS:
            setattr(self, key, check(key, kwargs.get(key, _DEFAULTS[key])))
        self._check_ttl_range("min_ttl" in kwargs)

    def _check_ttl_range(self, min_given):
        """min_ttl <= max_ttl <= MAX_TTL_LIMIT; the error names the option
        given (min_ttl when both are)."""
        if self.max_ttl > MAX_TTL_LIMIT or (self.min_ttl > self.max_ttl and not min_given):
            raise invalid("max_ttl", self.max_ttl,
                          "a number of seconds >= min_ttl and <= %d" % MAX_TTL_LIMIT,
                          "min_ttl is %r" % (self.min_ttl,))
        if self.min_ttl > self.max_ttl:
            raise invalid("min_ttl", self.min_ttl, "a number of seconds >= 0 and <= max_ttl",
                          "max_ttl is %r" % (self.max_ttl,))

    def __repr__(self):
        return "Options(%s)" % ", ".join(
            "%s=%r" % (key, getattr(self, key)) for key in sorted(_DEFAULTS))


_NAMESERVERS = ('None or a non-empty list of "ip", "ip:port", "[ipv6]:port" or '
                '(ip, port), ip a numeric IPv4 or IPv6 address, port 1 to 65535')


def check_nameservers(value):
    """The ``nameservers`` option as a list of ``(ip, port)``, or None."""
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value:
        why = "a single address must be inside a list" \
            if isinstance(value, (six.string_types, bytes)) else ""
        raise invalid("nameservers", value, _NAMESERVERS, why)
    if isinstance(value, tuple) and len(value) == 2 and _is_int(value[1]):
        raise invalid("nameservers", value, _NAMESERVERS,
                      "a single (ip, port) must be inside a list")
    parsed = []
    for entry in value:
        try:
            parsed.append(parse_nameserver(entry))
        except ValueError as exc:
            raise invalid("nameservers", value, _NAMESERVERS,
                          "entry %r: %s" % (entry, exc))
    return parsed


def parse_nameserver(spec):
    """``"127.0.0.1"``, ``"127.0.0.1:5353"``, ``"::1"``, ``"[::1]:5353"`` or
    an ``(ip, port)`` tuple -> ``(ip, port)``; ValueError saying what is wrong
    otherwise."""
    if isinstance(spec, tuple) and len(spec) == 2:
        ip, port = spec
        if not _is_int(port) or not 1 <= port <= 65535:
            raise ValueError("port %r is not an integer from 1 to 65535" % (port,))
        return _ip_literal(ip, (socket.AF_INET, socket.AF_INET6)), int(port)
    if not isinstance(spec, six.string_types):
        raise ValueError("neither a string nor an (ip, port) tuple")
    if spec.startswith("["):
        ip, bracket, rest = spec[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError('"[" without "]" or "]:port"')
        port = _port_text(rest[1:]) if rest else 53
        return _ip_literal(ip, (socket.AF_INET6,)), port
    if spec.count(":") == 1:
        ip, port = spec.split(":")
        return _ip_literal(ip, (socket.AF_INET,)), _port_text(port)
    return _ip_literal(spec, (socket.AF_INET, socket.AF_INET6)), 53


def _port_text(text):
    if not (text and all(char in "0123456789" for char in text)) \
            or not 1 <= int(text) <= 65535:
        raise ValueError("port %r is not a number from 1 to 65535" % (text,))
    return int(text)


def _ip_literal(ip, families):
    """``ip`` as a native str if it is a numeric address of one of
    ``families``."""
    if isinstance(ip, six.string_types):
        for family in families:
            if _is_numeric(ip, family):
                return str(ip)
    kinds = " or ".join("IPv4" if family == socket.AF_INET else "IPv6" for family in families)
    raise ValueError("address %r is not a numeric %s one" % (ip, kinds))


def _is_numeric(ip, family):
    """Whether inet_pton() takes ``ip`` for ``family``; an IPv6 address may
    carry a ``%scope``, as glibc's resolv.conf reader allows."""
    if family == socket.AF_INET6 and "%" in ip:
        ip, _, scope = ip.partition("%")
        if not scope:
            return False
    try:
        socket.inet_pton(family, str(ip))  # Python 2: str() of non-ASCII fails
    except (socket.error, ValueError, TypeError):  # 2.7: TypeError for a NUL
        return False
    return True
