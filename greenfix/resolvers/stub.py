"""A stub resolver that sends, waits and retries as glibc's does, over the
green socket module it is given (eventlet's today; nothing here imports a
framework).

Why not dnspython's ``Resolver`` (which eventlet's greendns drives)?  Its
loop differs from glibc's in every way that decides how long a failure
takes and which name answers: a lifetime instead of ``timeout x attempts``
per nameserver, back-off sleeps between rounds, its own search-list order,
SERVFAIL treated as final, replies it cannot parse ignored.  Here each step
mirrors glibc's ``resolv/`` as Debian 12 ships it (the glibc 2.36 release
branch, which carries the 2.37 rewrite of ``nss_dns``'s answer parsing);
dnspython only encodes the query.

The work is split as dnspython splits its own (``_Resolution`` apart from
the I/O that drives it):

* :mod:`~greenfix.resolvers.search` (``res_query.c``, no I/O): which names
  a lookup queries in which order, what ends the search, which error it
  reports, and what a reply's rcode means (``res_search``,
  ``res_querydomain``, ``res_query``);
* :mod:`~greenfix.resolvers.wire` (no I/O): building queries, reading
  replies (``send_dg``'s checks, ``getanswer_r``, the negative TTL) and
  mapping h_errno / nss status / errno to the EAI_* code (``getaddrinfo()``);
* this module, the network loop: ``res_send`` (:meth:`StubResolver._send`):
  ``attempts`` rounds over the nameservers, starting at a random one with
  ``rotate`` and moving one on per query (``nameserver_offset()``); each UDP
  try (``send_dg``) waits ``timeout << i`` (divided by the number of servers
  for i > 0, at least 1 s) seconds for server i on a connected socket kept
  for the whole exchange, so a late reply to an earlier try is still taken;
  a datagram with a wrong id, or whose question is another one, is ignored
  and the wait goes on; SERVFAIL, NOTIMP, REFUSED, a referral, an undersized
  datagram or an ICMP error move on to the next server (and close every
  socket, as ``__res_iclose()`` does); a truncated reply is asked again over
  TCP (``send_vc``), which then serves the remaining servers of the round.
"""

from __future__ import absolute_import

import errno
import random
import socket
import struct
import time

from greenfix.resolvers import LookupFailed
from greenfix.resolvers.search import QueryFailed, Search, reply_failure
from greenfix.resolvers.wire import (
    ANSWER, HFIXEDSZ, HOST_NOT_FOUND, KEEP_WAITING, NEXT_SERVER, NO_RECOVERY, NOERROR,
    NSS_NOTFOUND, NSS_SUCCESS, PACKETSZ, RETRY_OVER_TCP, TRY_AGAIN, answer_gai_error,
    datagram_verdict, gai_error, getanswer, make_query, negative_ttl, rcode, res_hnok,
    search_gai_error)

clock = getattr(time, "monotonic", time.time)


class _SendFailed(Exception):
    """res_send() gave up: ``err`` is its errno, ``rcode`` the rcode of the
    last datagram read into the answer buffer."""

    def __init__(self, err, rcode):
        Exception.__init__(self, err)
        self.err = err
        self.rcode = rcode


class StubResolver(object):
    """``addresses(name, rdtype)`` -> ``([address, ...], ttl)``, or
    LookupFailed with the code libc's ``getaddrinfo()`` gives for that family.

    ``conf`` is a callable returning the current
    :class:`~greenfix.resolvers.resolvconf.ResolvConf`; ``dns`` the dnspython
    package; ``green_socket`` a socket module whose sockets cooperate with
    the hub (``eventlet.green.socket``).
    """

    def __init__(self, conf, dns, green_socket):
        self._conf = conf
        self._dns = dns
        self._socket = green_socket
        # nameserver_offset(): one process-wide counter, started at a random
        # value the first time rotate is used, moved on by every query.
        self._rotation = None

    # -- gethostbyname3_context / getaddrinfo -----------------------------
    def addresses(self, name, rdtype):
        """``name``: the host as bytes, as CPython hands it to libc.
        ``([address, ...], ttl)`` in the answer's order (getaddrinfo()
        sorts them afterwards), or LookupFailed."""
        if not res_hnok(self._dns, name):
            # nss_dns's check_name(): "There is no point in sending a query
            # which will not produce a usable name in the response."
            raise LookupFailed(gai_error(rdtype, NSS_NOTFOUND, HOST_NOT_FOUND, 0))
        conf = self._conf()
        try:
            packet = self._search(conf, name, rdtype)
        except QueryFailed as failure:
            code = search_gai_error(rdtype, failure.herrno, failure.err)
            raise LookupFailed(code, negative_ttl(failure.response))
        status, herrno, addresses, ttl = getanswer(packet, rdtype)
        if status != NSS_SUCCESS:
            raise LookupFailed(answer_gai_error(rdtype, status, herrno), None)
        return addresses, ttl

    # -- res_search, driven -----------------------------------------------
    def _search(self, conf, name, rdtype):
        """The reply packet of the first query that got answers, or
        :class:`QueryFailed` with h_errno and errno as res_search leaves
        them (the plan is :class:`~greenfix.resolvers.search.Search`'s)."""
        search = Search(conf, name)
        for query_name in search:
            try:
                return self._query(conf, query_name, rdtype)
            except QueryFailed as failure:
                search.failed(failure)
        raise search.failure

    # -- res_query --------------------------------------------------------
    def _query(self, conf, name, rdtype):
        """res_query() of ``name`` (bytes): the reply with answers, or
        :class:`QueryFailed`."""
        try:
            qname = self._dns.name.from_text(name)
        except self._dns.exception.DNSException:
            # res_mkquery() cannot encode it: no packet, NO_RECOVERY (and
            # ns_name_pton() leaves errno EMSGSIZE).
            raise QueryFailed(NO_RECOVERY, errno.EMSGSIZE)
        message, question = make_query(self._dns, conf, qname, rdtype)
        try:
            packet = self._send(conf, message, question)
        except _SendFailed as failure:
            raise QueryFailed(TRY_AGAIN, failure.err, failure.rcode)
        failure = reply_failure(packet, ignore_answers=question.no_aaaa)
        if failure is not None:
            raise failure
        return packet

    # -- res_send ---------------------------------------------------------
    def _ns_offset(self, conf, count):
        if count <= 1 or not conf.rotate:
            return 0
        if self._rotation is None:
            self._rotation = random.getrandbits(31)
        offset = self._rotation
        self._rotation += 1
        return offset % count

    def _send(self, conf, message, question):
        servers = conf.nameservers
        count = len(servers)
        offset = self._ns_offset(conf, count)
        state = _Exchange(use_tcp=conf.use_vc or len(message) > PACKETSZ)
        try:
            attempt = 0
            while attempt < conf.attempts:
                for shift in range(count):
                    index = (shift + offset) % count
                    server = servers[index]
                    seconds = try_seconds(conf.timeout, index, count)
                    if not state.use_tcp:
                        outcome, packet = self._udp(message, question, index, server,
                                                    seconds, state)
                        if outcome == ANSWER:
                            return packet
                        if outcome != RETRY_OVER_TCP:
                            continue
                        # Truncated: "use TCP with same server", and TCP for
                        # the rest of this round, which is the last one.
                        state.use_tcp = True
                    attempt = conf.attempts  # "Use VC; at most one attempt per server."
                    packet = self._tcp(message, question, server, seconds, state)
                    if packet is not None:
                        return packet
                attempt += 1
        finally:
            state.close_all()
        if not state.use_tcp:
            err = errno.ETIMEDOUT if state.gotsomewhere else errno.ECONNREFUSED
        else:
            err = state.terrno
        raise _SendFailed(err, state.rcode)

    def _udp(self, message, question, index, server, seconds, state):
        """One send_dg try: (ANSWER, packet), (RETRY_OVER_TCP, None) for a
        truncated reply, or (NEXT_SERVER, None)."""
        sock = state.sockets.get(index)
        try:
            if sock is None:
                sock = self._socket.socket(_family(server[0]), self._socket.SOCK_DGRAM)
                state.sockets[index] = sock
                # Connected, as glibc's is: ICMP errors surface (and stop
                # this try at once), replies from elsewhere are filtered.
                try:
                    sock.connect(server)
                except socket.error:
                    state.close_all()
                    return NEXT_SERVER, None
            sock.send(message)
            verdict, data = self._await_datagram(sock, question, seconds, state)
        except socket.error:
            # ICMP port/host unreachable (POLLERR), a failed send: the
            # socket is closed, next server; gotsomewhere is left as it was.
            state.close_all()
            return NEXT_SERVER, None
        if verdict == KEEP_WAITING:
            # The wait ran out: gotsomewhere is set, the socket stays open.
            state.gotsomewhere = True
            return NEXT_SERVER, None
        if verdict != ANSWER:
            state.close_all()
            return verdict, None
        return ANSWER, data

    def _await_datagram(self, sock, question, seconds, state):
        """send_dg's wait of ``seconds``: (verdict, datagram) for the first
        datagram that ends it (see :func:`~greenfix.resolvers.wire.datagram_verdict`),
        (KEEP_WAITING, None) when the time runs out."""
        deadline = clock() + seconds
        while True:
            remaining = deadline - clock()
            if remaining <= 0:
                return KEEP_WAITING, None
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except socket.timeout:
                return KEEP_WAITING, None
            state.gotsomewhere = True
            if len(data) >= 4:
                state.rcode = rcode(data)  # read into the answer buffer
            verdict = datagram_verdict(data, question)
            if verdict != KEEP_WAITING:
                return verdict, data

    def _tcp(self, message, question, server, seconds, state):
        """One send_vc exchange: the packet, or None for the next server.

        glibc takes the first message with the query's id, whatever its
        rcode or question, and reads without a timeout; greenfix gives up
        after the per-try wait instead of hanging on a server that accepts
        and never answers."""
        resets = 0
        while True:
            sock = self._socket.socket(_family(server[0]), self._socket.SOCK_STREAM)
            sock.settimeout(seconds)
            state.tcp = sock
            try:
                sock.connect(server)
                sock.sendall(struct.pack("!H", len(message)) + message)
                return _read_reply_vc(sock, question, state)
            except socket.timeout:
                state.terrno = errno.ETIMEDOUT
                return None
            except socket.error as exc:
                state.terrno = exc.errno or errno.EIO
                if exc.errno == errno.ECONNRESET and not resets:
                    resets += 1  # "We only allow one reset per query"
                    continue
                return None
            except EOFError:
                state.terrno = 0
                return None
            finally:
                sock.close()
                state.tcp = None


class _Exchange(object):
    """What one res_send call keeps: a UDP socket per server (until
    ``__res_iclose()``), whether anything answered, the errno of the last
    TCP failure and the rcode last read into the answer buffer."""

    def __init__(self, use_tcp):
        self.use_tcp = use_tcp
        self.sockets = {}
        self.tcp = None
        self.gotsomewhere = False
        self.terrno = errno.ETIMEDOUT
        self.rcode = NOERROR

    def close_all(self):
        for sock in self.sockets.values():
            sock.close()
        self.sockets.clear()


def _read_reply_vc(sock, question, state):
    """send_vc's read: length-prefixed messages until one has the query's
    id; None (errno EMSGSIZE) for one shorter than a header."""
    while True:
        size = struct.unpack("!H", _read_exactly(sock, 2))[0]
        if size < HFIXEDSZ:
            state.terrno = errno.EMSGSIZE
            return None
        data = _read_exactly(sock, size)
        state.rcode = rcode(data)
        if struct.unpack("!H", data[:2])[0] == question.qid:
            return data


def _read_exactly(sock, size):
    chunks = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def try_seconds(timeout, index, count):
    """send_dg's wait for server ``index``: ``retrans << ns``, divided by the
    number of servers for every server but the first, at least 1 s.

    A fractional ``timeout`` (only ``patch(timeout=...)`` can give one, for
    tests) keeps the same shape without glibc's integer rounding."""
    if isinstance(timeout, float):
        return timeout * (2 ** index) / (count if index > 0 else 1)
    seconds = timeout << index if timeout >= 0 else -1
    if index > 0:
        seconds = int(float(seconds) / count)  # C division truncates
    return seconds if seconds > 0 else 1


def _family(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET
