"""A stub resolver that sends, waits, retries and searches as glibc's does,
over eventlet green sockets, with dnspython building and parsing the
messages.

Why not dnspython's ``Resolver`` (which eventlet's greendns drives)?  Its
loop differs from glibc's in every way that decides how long a failure
takes and which name answers: a lifetime instead of ``timeout x attempts``
per nameserver, back-off sleeps between rounds, its own search-list order,
SERVFAIL treated as final.  Here each step mirrors glibc's ``resolv/``:

* ``res_send`` (:meth:`StubResolver._send`): ``attempts`` rounds over the
  nameservers (rotated with ``rotate``); each UDP try waits
  ``timeout << i`` (divided by the number of servers for i > 0) seconds for
  server i; replies with a wrong id, from another address or for another
  question are ignored and the wait goes on; SERVFAIL, NOTIMP, REFUSED,
  an undersized reply or an ICMP error move on to the next server; a
  truncated reply is asked again over TCP, once per server;
* ``res_query`` (:meth:`StubResolver._query`): the reply's rcode becomes
  HOST_NOT_FOUND (NXDOMAIN), NO_DATA (no answer), TRY_AGAIN (no reply);
* ``res_search`` (:meth:`StubResolver._search`): the name as it is first if
  it has ``ndots`` dots or a trailing dot, then each search domain, then the
  name as it is; NO_DATA and SERVFAIL keep the search going, other failures
  stop it; the error reported is the as-is query's, else NO_DATA, else
  TRY_AGAIN, else the last one.
"""

from __future__ import absolute_import

import errno
import itertools
import socket
import struct
import time

from greenfix.resolvers import Answer, LookupFailed

# h_errno values (netdb.h) and how getaddrinfo() reports them (gaih_inet).
HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY, NO_DATA = 1, 2, 3, 4
EAI_FOR_HERRNO = {
    HOST_NOT_FOUND: socket.EAI_NONAME,
    TRY_AGAIN: socket.EAI_AGAIN,
    NO_RECOVERY: socket.EAI_FAIL,
    NO_DATA: getattr(socket, "EAI_NODATA", socket.EAI_NONAME),
}

EDNS_PAYLOAD = 1200      # glibc's RESOLV_EDNS_BUFFER_SIZE
MAXDNAME = 1025          # longest name res_querydomain accepts (with NUL)
clock = getattr(time, "monotonic", time.time)


class _Failure(Exception):
    """A query that ended without an answer, with glibc's h_errno.

    ``refused``: no server ever answered (ECONNREFUSED in res_send), which
    stops the search; ``servfail``: the last reply was SERVFAIL, which lets
    it go on; ``response``: the negative reply, for its SOA TTL."""

    def __init__(self, herrno, refused=False, servfail=False, response=None):
        Exception.__init__(self, herrno)
        self.herrno = herrno
        self.refused = refused
        self.servfail = servfail
        self.response = response


class _NoAnswer(Exception):
    """res_send found no usable reply (every server failed or timed out)."""

    def __init__(self, gotsomewhere, last_reply):
        Exception.__init__(self)
        self.gotsomewhere = gotsomewhere
        self.last_reply = last_reply


class StubResolver(object):
    """``lookup(name, rdtype)`` -> Answer, or LookupFailed with libc's code.

    ``conf`` is a callable returning the current
    :class:`~greenfix.resolvers.resolvconf.ResolvConf`; ``dns`` the dnspython
    package; ``green_socket`` a socket module whose sockets cooperate with
    the hub (``eventlet.green.socket``).
    """

    def __init__(self, conf, dns, green_socket):
        self._conf = conf
        self._dns = dns
        self._socket = green_socket
        self._rotation = itertools.count()

    # -- res_search -------------------------------------------------------
    def lookup(self, name, rdtype):
        """``name``: the host as bytes, as CPython hands it to libc."""
        conf = self._conf()
        try:
            response, qname = self._search(conf, name, rdtype)
        except _Failure as failure:
            raise LookupFailed(EAI_FOR_HERRNO[failure.herrno], _negative_ttl(failure.response))
        addresses, ttl = self._addresses(response, qname, rdtype)
        if not addresses:
            # NOERROR with only a CNAME chain leading nowhere: glibc's
            # getanswer finds no address of the type, NO_DATA.
            raise LookupFailed(EAI_FOR_HERRNO[NO_DATA], ttl)
        return Answer(addresses[0], ttl)

    def _search(self, conf, name, rdtype):
        dots = name.count(b".")
        trailing_dot = name.endswith(b".")
        saved = None
        tried_as_is = searched = root_on_list = False
        got_nodata = got_servfail = False
        last = None
        if dots >= conf.ndots or trailing_dot:
            try:
                return self._querydomain(conf, name, None, rdtype)
            except _Failure as failure:
                if trailing_dot:
                    raise
                saved = last = failure
                tried_as_is = True
        if (not dots) or (dots and not trailing_dot):
            for domain in conf.search:
                searched = True
                if not domain.strip("."):
                    root_on_list = True
                try:
                    return self._querydomain(conf, name, domain, rdtype)
                except _Failure as failure:
                    last = failure
                    if failure.refused:
                        raise _Failure(TRY_AGAIN, refused=True)
                    if failure.herrno == NO_DATA:
                        got_nodata = True
                    elif failure.herrno == HOST_NOT_FOUND:
                        pass
                    elif failure.herrno == TRY_AGAIN and failure.servfail:
                        got_servfail = True
                    else:
                        break
        if (dots or not searched or not conf.no_tld_query) and not (tried_as_is or root_on_list):
            try:
                return self._querydomain(conf, name, None, rdtype)
            except _Failure as failure:
                last = failure
        if saved is not None:
            raise saved
        if got_nodata:
            raise _Failure(NO_DATA, response=last.response if last else None)
        if got_servfail:
            raise _Failure(TRY_AGAIN)
        raise last

    def _querydomain(self, conf, name, domain, rdtype):
        if domain is not None:
            name = name.rstrip(b".") + b"." + domain.strip(".").encode("latin-1")
        if len(name) + 1 > MAXDNAME:
            raise _Failure(NO_RECOVERY)
        try:
            qname = self._dns.name.from_text(name)
        except self._dns.exception.DNSException:
            # res_mkquery() cannot encode it: no packet, NO_RECOVERY.
            raise _Failure(NO_RECOVERY)
        return self._query(conf, qname, rdtype), qname

    # -- res_query --------------------------------------------------------
    def _query(self, conf, qname, rdtype):
        dns = self._dns
        query = dns.message.make_query(qname, rdtype)
        if conf.edns0:
            query.use_edns(0, 0, EDNS_PAYLOAD)
        try:
            response = self._send(conf, query)
        except _NoAnswer as failure:
            last = failure.last_reply
            raise _Failure(TRY_AGAIN, refused=not failure.gotsomewhere,
                           servfail=last is not None and last.rcode() == dns.rcode.SERVFAIL)
        rcode = response.rcode()
        if rcode != dns.rcode.NOERROR or not response.answer:
            if rcode == dns.rcode.NXDOMAIN:
                raise _Failure(HOST_NOT_FOUND, response=response)
            if rcode == dns.rcode.SERVFAIL:
                raise _Failure(TRY_AGAIN, servfail=True)
            if rcode == dns.rcode.NOERROR:
                raise _Failure(NO_DATA, response=response)
            raise _Failure(NO_RECOVERY)
        return response

    def _addresses(self, response, qname, rdtype):
        """Follow the CNAME chain from qname through the answer section,
        as glibc's getanswer does; the smallest TTL on the way."""
        dns = self._dns
        name, ttls = qname, []
        for _ in range(len(response.answer) + 1):
            for rrset in response.answer:
                if rrset.name == name and rrset.rdtype == rdtype:
                    ttls.append(rrset.ttl)
                    return [str(rdata.address) for rdata in rrset], min(ttls)
            cnames = [rrset for rrset in response.answer
                      if rrset.name == name and rrset.rdtype == dns.rdatatype.CNAME]
            if not cnames:
                break
            ttls.append(cnames[0].ttl)
            name = next(iter(cnames[0])).target
        return [], min(ttls) if ttls else None

    # -- res_send ---------------------------------------------------------
    def _send(self, conf, query):
        servers = conf.nameservers
        count = len(servers)
        offset = next(self._rotation) % count if conf.rotate else 0
        wire = query.to_wire()
        use_tcp = conf.use_vc
        gotsomewhere = False
        last_reply = None
        # One UDP socket per server for the whole exchange, as glibc keeps
        # them: a late reply to an earlier try (same id) is still taken.
        sockets = {}
        try:
            attempt = 0
            while attempt < conf.attempts:
                for shift in range(count):
                    index = (shift + offset) % count
                    server = servers[index]
                    seconds = _try_seconds(conf.timeout, index, count)
                    if use_tcp:
                        attempt = conf.attempts  # "Use VC; at most one attempt per server."
                        reply = self._tcp(wire, query, server, seconds)
                    else:
                        reply, got = self._udp(wire, query, server, seconds, sockets)
                        gotsomewhere = gotsomewhere or got
                        if reply is not None and reply.flags & self._dns.flags.TC:
                            use_tcp = True
                            attempt = conf.attempts
                            reply = self._tcp(wire, query, server, seconds)
                    if reply is None:
                        continue
                    last_reply = reply
                    if self._rejected(reply):
                        continue
                    return reply
                attempt += 1
        finally:
            for sock in sockets.values():
                sock.close()
        raise _NoAnswer(gotsomewhere, last_reply)

    def _rejected(self, reply):
        """A reply glibc moves past to the next server: SERVFAIL, NOTIMP,
        REFUSED, or a referral (NOERROR, no records, neither AA nor RA)."""
        dns = self._dns
        rcode = reply.rcode()
        if rcode in (dns.rcode.SERVFAIL, dns.rcode.NOTIMP, dns.rcode.REFUSED):
            return True
        flags = reply.flags
        return (rcode == dns.rcode.NOERROR and not reply.answer and not reply.additional
                and not flags & dns.flags.AA and not flags & dns.flags.RA)

    def _parse(self, data, query):
        """The reply if it answers ``query``; None for one glibc ignores."""
        if struct.unpack("!H", data[:2])[0] != query.id:
            return None
        try:
            reply = self._dns.message.from_wire(data)
        except Exception:  # malformed: glibc's res_queriesmatch() fails
            return None
        return reply if query.is_response(reply) else None

    def _udp(self, wire, query, server, seconds, sockets):
        """One UDP try (send_dg): (reply or None, whether anything came)."""
        got = False
        try:
            sock = sockets.get(server)
            if sock is None:
                sock = self._socket.socket(_family(server[0]), self._socket.SOCK_DGRAM)
                sockets[server] = sock
                # Connected, as glibc's is: ICMP errors surface and replies
                # from other addresses are filtered by the kernel.
                sock.connect(server)
            sock.send(wire)
            deadline = clock() + seconds
            while True:
                remaining = deadline - clock()
                if remaining <= 0:
                    return None, got
                sock.settimeout(remaining)
                data = sock.recv(65535)
                got = True
                if len(data) < 12:  # undersized: EMSGSIZE, next server
                    return None, got
                reply = self._parse(data, query)
                if reply is not None:
                    return reply, got
        except socket.timeout:
            return None, got
        except socket.error as exc:
            if exc.errno not in (errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH):
                raise
            sockets.pop(server).close()  # __res_iclose()
            return None, got

    def _tcp(self, wire, query, server, seconds):
        """One TCP exchange (send_vc); None when it fails."""
        sock = self._socket.socket(_family(server[0]), self._socket.SOCK_STREAM)
        sock.settimeout(seconds)
        try:
            sock.connect(server)
            sock.sendall(struct.pack("!H", len(wire)) + wire)
            while True:
                size = struct.unpack("!H", _read_exactly(sock, 2))[0]
                data = _read_exactly(sock, size)
                if len(data) < 12:
                    return None
                reply = self._parse(data, query)
                if reply is not None:
                    return reply
        except (socket.error, EOFError):
            return None
        finally:
            sock.close()


def _read_exactly(sock, size):
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _try_seconds(timeout, index, count):
    """send_dg's wait for server ``index``: ``retrans << ns``, divided by the
    number of servers for every server but the first, at least 1 s.

    A fractional ``timeout`` (only ``patch(timeout=...)`` can give one, for
    tests) keeps the same shape without glibc's integer rounding."""
    if isinstance(timeout, float):
        return timeout * (2 ** index) / (count if index > 0 else 1)
    seconds = timeout << index
    if index > 0:
        seconds //= count
    return max(seconds, 1)


def _family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def _negative_ttl(response):
    """RFC 2308: min(SOA TTL, SOA minimum) of the reply's SOA, if any."""
    if response is None:
        return None
    for rrset in response.authority:
        if rrset.rdtype == 6:  # SOA
            return min(rrset.ttl, next(iter(rrset)).minimum)
    return None
