"""Which backend answers, and why: the one place that decides it.

:func:`greenfix.resolvers.build` (once per ``patch()``),
:meth:`GreenDNSResolver.handles() <greenfix.resolvers.greendns.GreenDNSResolver.handles>`
(once per lookup) and ``greenfix doctor`` (which explains the choice) all
ask these functions; none of them decides on its own.

* :func:`greendns_unavailable`: why the green backend cannot run in this
  process at all (eventlet's switch, dnspython missing or broken);
* :func:`process_backend`: what ``resolver=`` and that give for the process;
* :func:`libc_reason`: why one lookup must go to libc rather than the green
  backend (the system would answer differently than files-then-dns).
"""

from __future__ import absolute_import

import os

from greenfix.errors import GreenfixError
from greenfix.resolvers import nsswitch

#: The dnspython modules the green backend uses.
DNSPYTHON_MODULES = ("dns.exception", "dns.flags", "dns.message", "dns.name", "dns.rcode",
                     "dns.rdatatype")


def import_dnspython():
    """The ``dns`` package with :data:`DNSPYTHON_MODULES` imported; any
    exception their import raises propagates (eventlet issue 805: some
    dnspython extras break the import)."""
    import importlib
    for name in DNSPYTHON_MODULES:
        importlib.import_module(name)
    import dns
    return dns


def greendns_unavailable(environ=None):
    """Why the green backend cannot be used in this process, or None."""
    environ = os.environ if environ is None else environ
    # eventlet.green.socket skips greendns when this is exactly "yes"
    # (eventlet/green/socket.py); greenfix follows the same switch.
    if environ.get("EVENTLET_NO_GREENDNS", "").lower() == "yes":
        return "EVENTLET_NO_GREENDNS=yes"
    try:
        import_dnspython()
    except Exception as exc:
        return "dnspython cannot be imported: %r" % (exc,)
    return None


def process_backend(resolver, unavailable):
    """``(kind, reason)`` for ``resolver`` ("auto", "greendns",
    "threadpool") when the green backend is ``unavailable`` (a reason, or
    None): kind "threadpool" (libc in greenfix's lookup pool for every
    lookup), "greendns" (the green backend only) or "auto" (the green
    backend, libc for what :func:`libc_reason` names).  GreenfixError when
    greendns was asked for and cannot be had."""
    if resolver == "threadpool":
        return "threadpool", "resolver='threadpool' was asked for"
    if unavailable is not None:
        if resolver == "greendns":
            raise GreenfixError("resolver='greendns' but %s" % (unavailable,))
        return "threadpool", "greendns is unavailable (%s)" % (unavailable,)
    if resolver == "greendns":
        return "greendns", "resolver='greendns' was asked for"
    return "auto", ("greendns answers what it answers as libc would; libc in the "
                    "thread pool the rest")


def libc_reason(sources, sortlist, gai_directives, host=None):
    """Why a lookup (of ``host``, bytes, when given) is left to libc rather
    than answered by the green backend, or None when the green backend
    answers it exactly as the system would.

    ``sources``: the nsswitch ``hosts:`` words; ``sortlist``: resolv.conf
    has one (glibc reorders IPv4 answers by it); ``gai_directives``:
    /etc/gai.conf has directives (its own address-sorting tables)."""
    if not nsswitch.supported(sources):
        return ("nsswitch.conf says 'hosts: %s'; greendns stands in for 'files dns' only"
                % " ".join(sources))
    if sortlist:
        return "resolv.conf has a sortlist, which greendns does not apply"
    if gai_directives:
        return "/etc/gai.conf has directives; greendns sorts with glibc's built-in tables only"
    if host is not None and host.rstrip(b".").lower().endswith(b".local"):
        return "a .local name is mDNS's"
    return None
