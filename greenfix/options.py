"""The options ``greenfix.patch()`` takes, checked once at patch time."""

from __future__ import absolute_import

import os

import six

from greenfix.errors import GreenfixError

RESOLVERS = ("auto", "greendns", "threadpool")

#: Environment variable that sets the default of ``patch(resolver=...)``.
RESOLVER_ENV = "GREENFIX_RESOLVER"

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
    # The most native threads greenfix's lookup pool runs at once (libc's
    # getaddrinfo for the module-level lookups and the thread-pool backend).
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

#: Largest ``max_ttl`` accepted (c-ares' cap).
MAX_TTL_LIMIT = 3600

_CACHE_SECONDS = ("min_ttl", "max_ttl", "default_ttl", "negative_ttl",
                  "max_negative_ttl", "hold_down", "max_stale")


class Options(object):
    """Validated ``patch()`` options; attributes mirror the keyword names."""

    __slots__ = tuple(_DEFAULTS)

    def __init__(self, **kwargs):
        unknown = sorted(set(kwargs) - set(_DEFAULTS))
        if unknown:
            raise TypeError("patch() got unexpected keyword argument(s): %s"
                            % ", ".join(unknown))
        for key, default in _DEFAULTS.items():
            setattr(self, key, kwargs.get(key, default))
        if self.resolver is None:
            self.resolver = os.environ.get(RESOLVER_ENV, "").strip() or "auto"
        if self.resolver not in RESOLVERS:
            raise GreenfixError("resolver must be one of %s, not %r"
                                % (", ".join(RESOLVERS), self.resolver))
        if self.nameservers is not None:
            self.nameservers = [parse_nameserver(ns) for ns in self.nameservers]
        for key in ("timeout", "attempts"):
            value = getattr(self, key)
            if value is not None and not value > 0:
                raise GreenfixError("%s must be positive, not %r" % (key, value))
        threads = self.lookup_threads
        if isinstance(threads, bool) or not isinstance(threads, six.integer_types) \
                or threads < 1:
            raise GreenfixError("lookup_threads must be an integer >= 1, not %r" % (threads,))
        self._check_cache()

    def _check_cache(self):
        for key in _CACHE_SECONDS:
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (float,) + six.integer_types) \
                    or not value >= 0:
                raise GreenfixError("%s must be a number of seconds >= 0, not %r"
                                    % (key, value))
        if self.max_ttl > MAX_TTL_LIMIT:
            raise GreenfixError("max_ttl must be at most %d, not %r"
                                % (MAX_TTL_LIMIT, self.max_ttl))
        if self.min_ttl > self.max_ttl:
            raise GreenfixError("min_ttl (%r) must not exceed max_ttl (%r)"
                                % (self.min_ttl, self.max_ttl))
        size = self.cache_size
        if isinstance(size, bool) or not isinstance(size, six.integer_types) or size < 0:
            raise GreenfixError("cache_size must be an integer >= 0, not %r" % (size,))
        self.serve_stale = bool(self.serve_stale)

    def __repr__(self):
        return "Options(%s)" % ", ".join(
            "%s=%r" % (key, getattr(self, key)) for key in sorted(_DEFAULTS))


def parse_nameserver(spec):
    """``"127.0.0.1"``, ``"127.0.0.1:5353"``, ``"::1"`` or ``"[::1]:5353"``
    (or an ``(ip, port)`` tuple) -> ``(ip, port)``."""
    if isinstance(spec, tuple):
        ip, port = spec
        return ip, int(port)
    spec = spec.strip()
    if spec.startswith("["):
        ip, _, rest = spec[1:].partition("]")
        return ip, int(rest[1:]) if rest.startswith(":") else 53
    if spec.count(":") == 1:
        ip, port = spec.split(":")
        return ip, int(port)
    return spec, 53
