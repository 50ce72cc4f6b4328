"""The green DNS backend: the hosts file, then DNS over eventlet's green
sockets (dnspython encodes the queries; replies are read as glibc reads
them), then the addresses sorted as getaddrinfo() sorts them.

It keeps the name "greendns" (and eventlet's ``EVENTLET_NO_GREENDNS=yes``
switch) because it takes the place eventlet's greendns has, but it answers
like glibc rather than like ``eventlet.support.greendns``: the hosts file as
glibc's ``files`` source reads it (:mod:`hostsfile`), then the stub resolver
of :mod:`stub`, with resolv.conf read as glibc reads it (:mod:`resolvconf`),
both re-read when they change.
"""

from __future__ import absolute_import

import socket

from greenfix.resolvers import Answer, LookupFailed, choice, nsswitch, resolvconf
from greenfix.resolvers.hostsfile import HostsFile
from greenfix.resolvers.sorting import GAI_CONF, gai_conf_directives, rfc3484_first
from greenfix.resolvers.stub import StubResolver
from greenfix.resolvers.watched import WatchedFile, signatures


class Unavailable(Exception):
    """This backend cannot be used in this process (disabled or missing)."""


def _load_dependencies(green):
    unavailable = choice.greendns_unavailable()
    if unavailable is not None:
        raise Unavailable(unavailable)
    try:
        dns = choice.import_dnspython()
        green_socket = green.green_socket()
    except Exception as exc:  # eventlet issue 805: extras can break imports
        raise Unavailable("dnspython or the green socket module cannot be imported: %r"
                          % (exc,))
    return dns, green_socket


class GreenDNSResolver(object):
    """Answers ``resolve(host_bytes, family)`` from the hosts file, then DNS,
    in the order nsswitch.conf gives (files and dns only)."""

    name = "greendns"

    def __init__(self, options, green):
        """``green``: the framework module (:mod:`greenfix.frameworks`),
        whose green sockets carry the queries."""
        dns, green_socket = _load_dependencies(green)
        self._dns = dns
        self._options = options
        self._hosts = HostsFile(options.hosts)
        self._resolv_conf = WatchedFile(options.resolv_conf, self._parse_resolv_conf)
        self._nsswitch = WatchedFile(options.nsswitch, nsswitch.parse_hosts)
        self._gai_conf = WatchedFile(GAI_CONF, gai_conf_directives)
        self._stub = StubResolver(lambda: self._resolv_conf.value, dns, green_socket)
        self._rdtypes = {socket.AF_INET: dns.rdatatype.A, socket.AF_INET6: dns.rdatatype.AAAA}

    def _parse_resolv_conf(self, text):
        conf = resolvconf.parse(text)
        options = self._options
        if options.nameservers:
            conf.nameservers = list(options.nameservers)
        if options.timeout:
            conf.timeout = options.timeout
        if options.attempts:
            conf.attempts = options.attempts
        # "options no-reload": glibc keeps the configuration it loaded first
        # (and so it does after a negative ndots: see resolvconf).
        self._resolv_conf.frozen = conf.no_reload or conf.stops_reload
        return conf

    @property
    def signature(self):
        """Changes whenever a file this backend's answers depend on changes:
        the hosts file, resolv.conf, nsswitch.conf, gai.conf."""
        files = (self._resolv_conf, self._nsswitch, self._gai_conf)
        return (self._hosts.signature,) + signatures(files)

    def handles(self, host):
        """Whether this backend answers ``host`` as the system would
        (:func:`~greenfix.resolvers.choice.libc_reason` decides)."""
        return choice.libc_reason(self._nsswitch.value, self._resolv_conf.value.sortlist,
                                  self._gai_conf.value, host) is None

    def resolve(self, host, family):
        sources = self._nsswitch.value
        if not nsswitch.supported(sources):  # resolver="greendns" was forced
            sources = nsswitch.DEFAULT_SUPPORTED
        text = host.decode("latin-1")
        failure = None
        for source in sources:
            if source == "files":
                addresses = self._hosts.lookup(text, family)
                if addresses:
                    return Answer(rfc3484_first(addresses, family), None)
            elif source == "dns":
                try:
                    addresses, ttl = self._stub.addresses(
                        _as_dnspython_text(host), self._rdtypes[family])
                except LookupFailed as exc:
                    failure = exc
                else:
                    return Answer(rfc3484_first(addresses, family), ttl)
        raise failure or LookupFailed(socket.EAI_NONAME)


def _as_dnspython_text(host):
    """``host`` as dnspython's ``from_text()`` must read it to mean what
    glibc's ``ns_name_pton()`` reads: a lone ``@`` is the origin (the root)
    to dnspython, a one-label name to glibc (queried as ``@.``)."""
    return b"\\@" if host == b"@" else host
