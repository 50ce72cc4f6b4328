"""Resolution through eventlet's greendns: dnspython on green sockets.

The hosts file is read with greendns' ``HostsResolver`` and the DNS query is
made by a dnspython ``Resolver`` from greendns' patched copy of dnspython, so
the hub keeps running while the query waits.  What this module adds over
``greendns.resolve()`` is libc's outcome: the gaierror codes glibc gives
(greendns folds SERVFAIL into EAI_NONAME), the search list as glibc uses it,
and glibc's time budget (per-try timeout x attempts x nameservers, where
greendns keeps dnspython's lifetime).
"""

import os
import socket

from greenfix.resolvers import Answer, LookupFailed, resolvconf


class Unavailable(Exception):
    """greendns cannot be used in this process (disabled or not importable)."""


def load_greendns():
    """Return eventlet's greendns module, or raise :class:`Unavailable`."""
    # eventlet.green.socket skips greendns when this is exactly "yes"
    # (eventlet/green/socket.py); greenfix follows the same switch.
    if os.environ.get("EVENTLET_NO_GREENDNS", "").lower() == "yes":
        raise Unavailable("EVENTLET_NO_GREENDNS=yes")
    try:
        from eventlet.support import greendns
    except Exception as exc:  # eventlet issue 805: extras can break import
        raise Unavailable("eventlet.support.greendns cannot be imported: %r" % (exc,))
    return greendns


class GreenDNSResolver(object):
    """Answers ``resolve(host_bytes, family)`` from the hosts file, then DNS."""

    name = "greendns"

    def __init__(self, options, greendns=None):
        self._greendns = greendns or load_greendns()
        self._dns = self._greendns.dns
        self._options = options
        self._hosts = self._greendns.HostsResolver(fname=options.hosts)
        self._resolver = None
        self._rdtypes = {
            socket.AF_INET: self._dns.rdatatype.A,
            socket.AF_INET6: self._dns.rdatatype.AAAA,
        }
        # Outcomes that are answers from DNS, mapped as glibc maps them
        # (resolv/nss_dns: NXDOMAIN -> HOST_NOT_FOUND -> EAI_NONAME; a name
        # with no record of the family -> NO_DATA -> EAI_NODATA; SERVFAIL,
        # REFUSED and timeouts -> TRY_AGAIN -> EAI_AGAIN).  A name that cannot
        # be encoded (empty or over-long label, over-long name) fails in
        # res_mkquery() before any packet: EAI_NONAME at once.
        dns = self._dns
        self._failures = (
            (dns.resolver.NXDOMAIN, socket.EAI_NONAME),
            (dns.resolver.NoAnswer, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)),
            (dns.exception.Timeout, socket.EAI_AGAIN),
            (dns.resolver.NoNameservers, socket.EAI_AGAIN),
            (dns.name.EmptyLabel, socket.EAI_NONAME),
            (dns.name.LabelTooLong, socket.EAI_NONAME),
            (dns.name.NameTooLong, socket.EAI_NONAME),
            (dns.name.BadEscape, socket.EAI_NONAME),
        )

    def _build_resolver(self):
        dns = self._dns
        options = self._options
        try:
            resolver = dns.resolver.Resolver(filename=options.resolv_conf)
        except dns.resolver.NoResolverConfiguration:
            # glibc without a usable nameserver line asks 127.0.0.1.
            resolver = dns.resolver.Resolver(configure=False)
            resolver.nameservers = ["127.0.0.1"]
        timeout, attempts = resolvconf.read_budget(options.resolv_conf)
        if options.nameservers:
            resolver.nameservers = [ip for ip, _ in options.nameservers]
            resolver.nameserver_ports = dict(options.nameservers)
        timeout = options.timeout or timeout
        attempts = options.attempts or attempts
        resolver.timeout = timeout
        resolver.lifetime = timeout * attempts * len(resolver.nameservers)
        resolver.cache = None
        return resolver

    @property
    def resolver(self):
        """The dnspython resolver, built on first use: building it reads
        resolv.conf, which must not happen at import or patch time."""
        if self._resolver is None:
            self._resolver = self._build_resolver()
        return self._resolver

    def resolve(self, host, family):
        rdtype = self._rdtypes[family]
        try:
            # from_text() on bytes reads backslash escapes as res_mkquery()
            # does and applies no IDNA: CPython already did that.
            qname = self._dns.name.from_text(host)
            answer = self._hosts.query(qname, rdtype, raise_on_no_answer=False)
            if answer.rrset:
                return Answer(_first_address(answer.rrset), None)
            answer = self._query(qname, rdtype)
        except self._dns.exception.DNSException as exc:
            for kind, code in self._failures:
                if isinstance(exc, kind):
                    raise LookupFailed(code, _negative_ttl(exc))
            raise
        ttl = min(rrset.ttl for rrset in answer.response.answer)
        return Answer(_first_address(answer.rrset), ttl)

    def _query(self, qname, rdtype):
        resolver = self.resolver
        if hasattr(resolver, "resolve"):  # dnspython 2.x
            return resolver.resolve(qname, rdtype, search=True)
        return resolver.query(qname, rdtype)  # dnspython 1.x always searches


def _first_address(rrset):
    return str(next(iter(rrset)).address)


def _negative_ttl(exc):
    """RFC 2308: a negative answer holds for min(SOA TTL, SOA minimum) of the
    SOA in its authority section; the smallest over every name tried."""
    responses = exc.kwargs.get("responses") or {}
    if "response" in exc.kwargs:
        responses = {None: exc.kwargs["response"]}
    ttls = [min(rrset.ttl, rrset[0].minimum)
            for response in responses.values() if response is not None
            for rrset in response.authority if rrset.rdtype == 6]  # SOA
    return min(ttls) if ttls else None
