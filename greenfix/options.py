"""The options ``greenfix.patch()`` takes, checked once at patch time."""

from __future__ import absolute_import

import os

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
    # Per-try timeout and tries per nameserver, overriding resolv.conf's.
    "timeout": None,
    "attempts": None,
}


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
