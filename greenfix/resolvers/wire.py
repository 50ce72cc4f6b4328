"""DNS messages as glibc reads them, and how a lookup's end becomes an EAI_*
code: no I/O, no sockets, no clock.

* building a query (``res_mkquery``; dnspython encodes it): :func:`make_query`;
* reading a message (``resolv/ns_name.c``, ``resolv/ns_rr_cursor_*.c``):
  :func:`unpack_name`, :func:`skip_question`, :func:`records`;
* which datagram ``send_dg`` takes as the reply, and what it does with it
  (``resolv/res_send.c``): :class:`Question`, :func:`datagram_verdict`,
  :func:`is_referral`;
* host-name checks (``res_hnok``, ``res_binary_hnok`` in ``resolv/res-name-checking.c``):
  :func:`res_hnok`, :func:`binary_hnok`;
* reading the answer (``getanswer_r`` in ``resolv/nss_dns/dns-host.c``):
  :func:`getanswer`; the negative TTL of RFC 2308: :func:`negative_ttl`;
* ``getaddrinfo()``'s view of it (``sysdeps/posix/getaddrinfo.c``):
  :func:`gai_error`, :func:`search_gai_error`, :func:`answer_gai_error`.

Every reader raises :class:`Malformed` (never IndexError or struct.error) on
a message that ends too early.
"""

from __future__ import absolute_import

import errno
import socket
import struct

# h_errno values (netdb.h).
HOST_NOT_FOUND, TRY_AGAIN, NO_RECOVERY, NO_DATA = 1, 2, 3, 4
# nss_status values (nss.h).
NSS_TRYAGAIN, NSS_UNAVAIL, NSS_NOTFOUND, NSS_SUCCESS = -2, -1, 0, 1

EAI_NODATA = getattr(socket, "EAI_NODATA", -5)

# rcodes, flags and types.
NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED = 0, 1, 2, 3, 4, 5
T_A, T_CNAME, T_SOA, T_AAAA = 1, 5, 6, 28
C_IN = 1
ADDRESS_SIZE = {T_A: 4, T_AAAA: 16}
FLAG_AD = 0x0020         # res_mkquery sets it with trust-ad

HFIXEDSZ = 12            # DNS header
PACKETSZ = 512           # queries longer than this go over TCP (res_send)
EDNS_PAYLOAD = 1200      # RESOLV_EDNS_BUFFER_SIZE
MAXDNAME = 1025          # longest text name res_querydomain accepts (with NUL)
MAXCDNAME = 255          # longest wire name

# What send_dg does with a datagram (see datagram_verdict).
ANSWER, NEXT_SERVER, RETRY_OVER_TCP, KEEP_WAITING = "answer", "next", "tcp", "wait"


class Malformed(Exception):
    """A header, name or record runs past the end of the message."""


# -- res_mkquery ------------------------------------------------------------

def make_query(dns, conf, qname, rdtype):
    """``(wire, question)`` for a query of ``qname`` (a dnspython name):
    res_nmkquery() with the options of ``conf`` (EDNS, trust-ad, no-aaaa)."""
    no_aaaa = rdtype == T_AAAA and conf.no_aaaa
    if no_aaaa:
        # __res_handle_no_aaaa(): an A query (without EDNS) stands in for
        # the AAAA one; its reply is read with no answers (NO_DATA).
        query = dns.message.make_query(qname, T_A)
    else:
        query = dns.message.make_query(qname, rdtype)
        if conf.edns0:
            query.use_edns(0, 0, EDNS_PAYLOAD)
    if conf.trust_ad:
        query.flags |= FLAG_AD
    question = Question(query.id, qname.labels, T_A if no_aaaa else rdtype, no_aaaa)
    return query.to_wire(), question


# -- the header -------------------------------------------------------------

def byte(data, index):
    """The octet at ``index`` as an int, on Python 2 and 3 alike."""
    if index >= len(data):
        raise Malformed()
    return bytearray(data[index:index + 1])[0]


def header(data):
    """``(id, flags, rcode, qdcount, ancount, nscount, arcount)``."""
    if len(data) < HFIXEDSZ:
        raise Malformed()
    qid, flags, qdcount, ancount, nscount, arcount = struct.unpack("!HHHHHH", data[:HFIXEDSZ])
    return qid, flags, flags & 0x0F, qdcount, ancount, nscount, arcount


def rcode(data):
    """The rcode of a message of at least 4 octets."""
    return byte(data, 3) & 0x0F


# -- send_dg's checks (resolv/res_send.c) -----------------------------------

class Question(object):
    """The query's id and question, and res_queriesmatch() against them.
    ``no_aaaa``: an A query standing in for an AAAA one, whose reply is read
    without its answers."""

    def __init__(self, qid, labels, rdtype, no_aaaa=False):
        self.qid = qid
        self.labels = [label.lower() for label in labels]
        self.rdtype = rdtype
        self.no_aaaa = no_aaaa

    def matches(self, data):
        """Whether send_dg takes the datagram (of at least HFIXEDSZ octets)
        as the reply to this query."""
        qid, _, code, qdcount = header(data)[:4]
        if qid != self.qid:
            return False
        if len(data) == HFIXEDSZ and qdcount == 0 and code in (SERVFAIL, NOTIMP, REFUSED):
            # "Some recursive resolvers send REFUSED without copying back
            # the question section": such a short error matches any query.
            return True
        if qdcount != 1:
            return False
        # res_nameinquery() returns -1 when it cannot read the reply's
        # question, and res_queriesmatch() takes that as a match.  (glibc
        # reads up to the end of its answer buffer, not of the datagram;
        # here a name running past the datagram counts as unreadable.)
        try:
            labels, offset = unpack_name(data, HFIXEDSZ)
        except Malformed:
            return True
        if offset + 4 > len(data):
            return True
        qtype, qclass = struct.unpack("!HH", data[offset:offset + 4])
        return (qtype == self.rdtype and qclass == C_IN
                and [label.lower() for label in labels] == self.labels)


def is_referral(data):
    """send_dg moves on from NOERROR with no answer, authority-less
    additional section, and neither AA nor RA set."""
    _, flags, code, _, ancount, _, arcount = header(data)
    return (code == NOERROR and ancount == 0 and arcount == 0
            and not flags & 0x0400 and not flags & 0x0080)


def datagram_verdict(data, question):
    """What send_dg does with a datagram received for ``question``:
    ANSWER, NEXT_SERVER, RETRY_OVER_TCP or KEEP_WAITING."""
    if len(data) < HFIXEDSZ:
        return NEXT_SERVER  # "Undersized message": EMSGSIZE, next server.
    if not question.matches(data):
        return KEEP_WAITING  # "Spurious UDP packet.  Drop it and continue waiting."
    if rcode(data) in (SERVFAIL, NOTIMP, REFUSED) or is_referral(data):
        return NEXT_SERVER
    if header(data)[1] & 0x0200:  # TC: "use TCP with same server"
        return RETRY_OVER_TCP
    return ANSWER


# -- reading messages (resolv/ns_rr_cursor_*.c, ns_name.c) ------------------

def unpack_name(data, offset):
    """ns_name_unpack(): (labels ending with b"", offset after the name)."""
    labels = []
    end = None
    length = 0
    jumps = 0
    while True:
        size = byte(data, offset)
        if size & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = ((size & 0x3F) << 8) | byte(data, offset + 1)
            jumps += 1
            if jumps > len(data):  # a loop
                raise Malformed()
            continue
        if size & 0xC0:
            raise Malformed()  # extended label types are not supported
        offset += 1
        if offset + size > len(data):
            raise Malformed()
        labels.append(data[offset:offset + size])
        length += size + 1
        if length > MAXCDNAME:
            raise Malformed()
        offset += size
        if not size:
            return labels, end if end is not None else offset


def skip_question(data):
    """ns_rr_cursor_init(): the offset of the first record, or None when
    the header, the question count (it must be 1) or the question (whose
    name must not be compressed) is wrong."""
    if len(data) < HFIXEDSZ or data[4:6] != b"\x00\x01":
        return None
    offset = HFIXEDSZ
    length = 0
    while True:
        if offset >= len(data):
            return None
        size = byte(data, offset)
        if size & 0xC0:
            return None
        offset += 1 + size
        length += 1 + size
        if length > MAXCDNAME:
            return None
        if not size:
            break
    if offset + 4 > len(data):
        return None
    return offset + 4


def records(data, offset, count):
    """ns_rr_cursor_next() ``count`` times: (labels, type, class, ttl,
    rdata offset, rdata length) each; Malformed past the end."""
    for _ in range(count):
        labels, offset = unpack_name(data, offset)
        if offset + 10 > len(data):
            raise Malformed()
        rtype, rclass, ttl, rdlength = struct.unpack("!HHIH", data[offset:offset + 10])
        offset += 10
        if offset + rdlength > len(data):
            raise Malformed()
        yield labels, rtype, rclass, ttl, offset, rdlength
        offset += rdlength


# -- host names (resolv/res-name-checking.c) --------------------------------

def binary_hnok(labels):
    """res_binary_hnok(): letters, digits, '-' and '_' only, and the first
    label not starting with '-'."""
    if labels and labels[0][:1] == b"-":
        return False
    for label in labels:
        for char in bytearray(label):
            if not (48 <= char <= 57 or 65 <= char <= 90 or 97 <= char <= 122
                    or char in (45, 95)):
                return False
    return True


def res_hnok(dns, name):
    """res_hnok() of a text name (bytes): printable ASCII, encodable
    (ns_name_pton, here dnspython's ``from_text``), and a host name."""
    if not all(0x21 <= char <= 0x7e for char in bytearray(name)):
        return False
    try:
        labels = dns.name.from_text(name).labels
    except dns.exception.DNSException:
        return False
    return binary_hnok(labels)


# -- nss_dns's getanswer_r (resolv/nss_dns/dns-host.c) -----------------------

def getanswer(data, qtype):
    """nss_dns's getanswer_r(): (status, h_errno, addresses, ttl)."""
    offset = skip_question(data)
    if offset is None:
        return NSS_UNAVAIL, NO_RECOVERY, [], None
    qlabels = unpack_name(data, HFIXEDSZ)[0]
    if rcode(data) == NXDOMAIN or not binary_hnok(qlabels):
        # "Treat the QNAME just like an alias.  Error out if it is not a
        # valid host name."
        return NSS_NOTFOUND, HOST_NOT_FOUND, [], None
    try:
        addresses, ttl = _answer_addresses(data, offset, qlabels, qtype)
    except Malformed:
        return NSS_UNAVAIL, NO_RECOVERY, [], None
    if not addresses:
        return NSS_TRYAGAIN, NO_RECOVERY, [], None
    return NSS_SUCCESS, 0, addresses, ttl


def _answer_addresses(data, offset, qlabels, qtype):
    """getanswer_r's loop over the answer section: the addresses of the
    asked type and size owned by the name the CNAME chain has reached, and
    the smallest TTL of those records and the CNAMEs."""
    expected = [label.lower() for label in qlabels]
    family = socket.AF_INET if qtype == T_A else socket.AF_INET6
    addresses = []
    ttl = None
    for labels, rtype, rclass, rttl, at, size in records(data, offset, header(data)[4]):
        if rclass != C_IN:
            continue
        if rtype in (T_CNAME, qtype):
            ttl = rttl if ttl is None else min(ttl, rttl)
        if rtype == T_CNAME:
            # "No check for owner name match, based on historic
            # precedent.  Record the CNAME target as the new expected
            # name."
            expected = [label.lower() for label in unpack_name(data, at)[0]]
        elif (rtype == qtype and [label.lower() for label in labels] == expected
              and size == ADDRESS_SIZE[qtype]):
            addresses.append(socket.inet_ntop(family, data[at:at + size]))
    return addresses, ttl


def negative_ttl(packet):
    """RFC 2308: min(SOA TTL, SOA minimum) of a negative reply's SOA."""
    if packet is None:
        return None
    try:
        offset = skip_question(packet)
        if offset is None:
            return None
        ancount, nscount = header(packet)[4:6]
        found = list(records(packet, offset, ancount + nscount))
    except Malformed:
        return None
    for _, rtype, _, ttl, at, size in found[ancount:]:
        if rtype == T_SOA and size >= 20:
            minimum = struct.unpack("!I", packet[at + size - 4:at + size])[0]
            return min(ttl, minimum)
    return None


# -- getaddrinfo's view of it (sysdeps/posix/getaddrinfo.c) -----------------

def gai_error(qtype, status, herrno, err):
    """The EAI_* code getaddrinfo() returns when ``dns`` (the last source of
    ``hosts: files dns``) ends with ``status`` / ``herrno`` / ``err``.

    AF_INET6 (``gethosts()``): TRY_AGAIN is EAI_AGAIN, NO_DATA EAI_NODATA,
    anything else EAI_NONAME.

    AF_INET goes through ``try_simple_gethostbyname()``, i.e.
    ``gethostbyname2_r()``, whose return value (``nss/getXXbyYY_r.c``) is 0
    for NOTFOUND, EAGAIN for TRYAGAIN and errno (EAGAIN when h_errno is
    TRY_AGAIN) for UNAVAIL: a zero return is EAI_NODATA for NO_DATA and
    EAI_NONAME otherwise; a non-zero one EAI_AGAIN for TRY_AGAIN and
    EAI_NODATA otherwise.  Measured (Debian 12): a reply without a usable
    address is EAI_NODATA for AF_INET and EAI_NONAME for AF_INET6."""
    if qtype != T_A:
        if herrno == TRY_AGAIN:
            return socket.EAI_AGAIN
        if herrno == NO_DATA:
            return EAI_NODATA
        return socket.EAI_NONAME
    if status == NSS_NOTFOUND:
        result = 0
    elif status == NSS_TRYAGAIN or herrno == TRY_AGAIN:
        result = errno.EAGAIN
    else:
        # UNAVAIL without TRY_AGAIN: nss_dns puts back the errno it found
        # on entry (0 here: greenfix cannot know the caller's) after a
        # failed search, or leaves the parser's.
        result = err
    if not result:
        return EAI_NODATA if herrno == NO_DATA else socket.EAI_NONAME
    if herrno == TRY_AGAIN:
        return socket.EAI_AGAIN
    return EAI_NODATA


def search_gai_error(qtype, herrno, err):
    """gethostbyname3_context() after res_search failed with ``herrno`` and
    ``err``: ECONNREFUSED or ETIMEDOUT make the source UNAVAIL, anything
    else NOTFOUND; h_errno stays the search's."""
    unavailable = err in (errno.ECONNREFUSED, errno.ETIMEDOUT)
    status = NSS_UNAVAIL if unavailable else NSS_NOTFOUND
    return gai_error(qtype, status, herrno, 0)


def answer_gai_error(qtype, status, herrno):
    """gethostbyname3_context() after getanswer_r() found no address: a
    parse failure leaves errno EMSGSIZE; "no address" ENOENT."""
    err = errno.EMSGSIZE if status == NSS_UNAVAIL else errno.ENOENT
    return gai_error(qtype, status, herrno, err)
