"""greenfix/resolvers/wire.py without sockets: reading DNS messages built by
dnspython as glibc reads them (names, records, send_dg's checks,
getanswer_r, the negative TTL), malformed messages, and how a lookup's end
becomes an EAI_* code."""

from __future__ import absolute_import

import socket
import struct

import dns.exception
import dns.message
import dns.name
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnsmessages import labels_of, query, question_end, reply, soa
from greenfix.resolvers import resolvconf, wire

EAI_NODATA = getattr(socket, "EAI_NODATA", -5)
NAME = "www.example.test."


def _conf(text=""):
    return resolvconf.parse("nameserver 127.0.0.1\n" + text, environ={})


def _question(message, rdtype=wire.T_A):
    """The :class:`wire.Question` of a dnspython query message."""
    return wire.Question(message.id, message.question[0].name.labels, rdtype)


# -------------------------------------------------------------- names

label = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_", min_size=1, max_size=20)
host = st.lists(label, min_size=1, max_size=5).map(lambda labels: ".".join(labels) + ".")


@given(owners=st.lists(host, min_size=1, max_size=6, unique_by=lambda name: name.lower()))
@settings(max_examples=60, deadline=None)
def test_records_read_as_dnspython_wrote_them(owners):
    """Owner names (compressed against each other by dnspython), types,
    classes, TTLs and rdata positions as dnspython itself reads them back."""
    message = query(owners[0])
    answers = [(owner, 60 + index, "A", "192.0.2.%d" % (index + 1))
               for index, owner in enumerate(owners)]
    data = reply(message, answers=answers)
    offset = wire.skip_question(data)
    assert offset == question_end(data)
    found = list(wire.records(data, offset, len(answers)))
    expected = [rrset for rrset in dns.message.from_wire(data).answer for _ in rrset]
    assert [list(labels) for labels, _, _, _, _, _ in found] == \
        [list(rrset.name.labels) for rrset in expected]
    assert [(rtype, rclass, ttl) for _, rtype, rclass, ttl, _, _ in found] == \
        [(wire.T_A, wire.C_IN, rrset.ttl) for rrset in expected]
    assert [socket.inet_ntoa(data[at:at + size]) for _, _, _, _, at, size in found] == \
        [rrset[0].address for rrset in expected]


def test_unpack_name_follows_pointers_and_rejects_loops():
    data = reply(query(NAME), answers=[(NAME, 60, "CNAME", "other.example.test.")])
    first = wire.skip_question(data)
    labels, after = wire.unpack_name(data, first)
    assert labels == labels_of(NAME) and after == first + 2   # a pointer: 2 octets
    loop = data[:first] + b"\xc0" + struct.pack("B", first)  # points at itself
    with pytest.raises(wire.Malformed):
        wire.unpack_name(loop, first)
    with pytest.raises(wire.Malformed):
        wire.unpack_name(b"\x40abc\x00", 0)                   # extended label type
    with pytest.raises(wire.Malformed):
        wire.unpack_name((b"\x3f" + b"a" * 63) * 5 + b"\x00", 0)  # over 255 octets


def test_skip_question_needs_one_uncompressed_question():
    data = reply(query(NAME))
    assert wire.skip_question(data) == question_end(data)
    assert wire.skip_question(data[:4] + b"\x00\x02" + data[6:]) is None    # QDCOUNT 2
    assert wire.skip_question(data[:12] + b"\xc0\x0c" + data[-4:]) is None  # compressed
    assert wire.skip_question(data[:question_end(data) - 1]) is None


# ----------------------------------------------------------- malformed

def _readers(data):
    """Every reader run over ``data``; only Malformed may escape."""
    question = wire.Question(0, labels_of(NAME), wire.T_A)
    wire.getanswer(data, wire.T_A)
    wire.getanswer(data, wire.T_AAAA)
    wire.negative_ttl(data)
    wire.datagram_verdict(data, question)
    wire.skip_question(data)
    for call in (lambda: question.matches(data), lambda: wire.is_referral(data),
                 lambda: wire.rcode(data), lambda: wire.unpack_name(data, 12),
                 lambda: list(wire.records(data, 12, 3))):
        try:
            call()
        except wire.Malformed:
            pass


@given(st.binary(max_size=120))
@settings(max_examples=500, deadline=None)
def test_random_bytes_raise_only_malformed(data):
    _readers(data)


def test_every_truncation_of_a_real_reply_raises_only_malformed():
    answers = [(NAME, 60, "CNAME", "a.example.test."), ("a.example.test.", 30, "A", "192.0.2.1")]
    data = reply(query(NAME), answers=answers, authority=[soa("example.test.", 300, 60)])
    for end in range(len(data)):
        _readers(data[:end])
    data = reply(query(NAME), answers=answers)
    assert wire.getanswer(data, wire.T_A)[0] == wire.NSS_SUCCESS
    for end in range(len(data)):
        assert wire.getanswer(data[:end], wire.T_A)[:3] == (wire.NSS_UNAVAIL, wire.NO_RECOVERY, [])


@given(st.binary(min_size=1, max_size=60), st.integers(min_value=0, max_value=200))
@settings(max_examples=300, deadline=None)
def test_corrupted_replies_raise_only_malformed(junk, at):
    data = reply(query(NAME), answers=[(NAME, 60, "A", "192.0.2.1")],
                 authority=[soa("example.test.", 300, 60)])
    at = min(at, len(data))
    _readers(data[:at] + junk + data[at + len(junk):])


# ------------------------------------------------------------ getanswer_r

def test_getanswer_follows_the_cname_chain_in_order():
    data = reply(query(NAME), answers=[
        (NAME, 300, "CNAME", "mid.example.test."),
        ("other.example.test.", 5, "A", "192.0.2.9"),      # not on the chain
        ("MID.example.test.", 120, "CNAME", "end.example.test."),
        ("end.example.test.", 60, "A", "192.0.2.1"),
        ("End.Example.Test.", 60, "A", "192.0.2.2"),
    ])
    status, herrno, addresses, ttl = wire.getanswer(data, wire.T_A)
    assert (status, herrno) == (wire.NSS_SUCCESS, 0)
    assert addresses == ["192.0.2.1", "192.0.2.2"]
    assert ttl == 5    # the smallest TTL of every CNAME and A record read


def test_getanswer_aaaa_and_records_of_another_size_or_class():
    data = reply(query(NAME, "AAAA"), answers=[(NAME, 60, "AAAA", "2001:db8::1")])
    assert wire.getanswer(data, wire.T_AAAA)[2] == ["2001:db8::1"]
    assert wire.getanswer(data, wire.T_A)[:3] == (wire.NSS_TRYAGAIN, wire.NO_RECOVERY, [])
    data = reply(query(NAME), answers=[(NAME, 60, "A", "192.0.2.1")])
    at = question_end(data) + 2 + 2                      # owner pointer, type
    chaos = data[:at] + struct.pack("!H", 3) + data[at + 2:]
    assert wire.getanswer(chaos, wire.T_A)[:3] == (wire.NSS_TRYAGAIN, wire.NO_RECOVERY, [])
    at = question_end(data) + 2 + 8                      # rdlength
    long_rdata = data[:at] + struct.pack("!H", 5) + data[at + 2:] + b"\x00"
    assert wire.getanswer(long_rdata, wire.T_A)[2] == []


def test_getanswer_nxdomain_bad_qname_and_unreadable():
    data = reply(query(NAME), rcode="NXDOMAIN", authority=[soa("example.test.", 300, 60)])
    assert wire.getanswer(data, wire.T_A)[:2] == (wire.NSS_NOTFOUND, wire.HOST_NOT_FOUND)
    data = reply(query("bad!name.test."), answers=[("bad!name.test.", 60, "A", "192.0.2.1")])
    assert wire.getanswer(data, wire.T_A)[:2] == (wire.NSS_NOTFOUND, wire.HOST_NOT_FOUND)
    data = reply(query(NAME), answers=[(NAME, 60, "CNAME", "x.example.test.")])
    assert wire.getanswer(data[:-3], wire.T_A)[:2] == (wire.NSS_UNAVAIL, wire.NO_RECOVERY)


def test_negative_ttl_is_the_smaller_of_soa_ttl_and_minimum():
    for ttl, minimum in ((300, 60), (30, 600)):
        data = reply(query(NAME), rcode="NXDOMAIN", authority=[soa("example.test.", ttl, minimum)])
        assert wire.negative_ttl(data) == min(ttl, minimum)
    assert wire.negative_ttl(reply(query(NAME), rcode="NXDOMAIN")) is None
    assert wire.negative_ttl(None) is None


# ------------------------------------------------------- send_dg's checks

def test_question_matches_id_name_type_and_class():
    message = query(NAME)
    question = _question(message)
    assert question.matches(reply(message))
    other_id = bytearray(reply(message))
    other_id[:2] = struct.pack("!H", (message.id + 1) & 0xFFFF)
    assert not question.matches(bytes(other_id))
    assert not _question(message, wire.T_AAAA).matches(reply(message))
    assert not question.matches(reply(message).replace(b"\x03www", b"\x03xyz", 1))
    upper = query(NAME.upper())                          # names compare case-insensitively
    assert wire.Question(upper.id, message.question[0].name.labels, wire.T_A).matches(reply(upper))


def test_short_errors_without_question_match_any_query():
    message = query(NAME)
    question = _question(message)
    for rcode, matches in ((wire.REFUSED, True), (wire.SERVFAIL, True), (wire.NOTIMP, True),
                           (wire.NXDOMAIN, False), (wire.NOERROR, False)):
        short = struct.pack("!HHHHHH", message.id, 0x8180 | rcode, 0, 0, 0, 0)
        assert question.matches(short) is matches


def test_unreadable_question_is_taken_as_the_reply():
    """res_nameinquery() gives -1, which res_queriesmatch() takes."""
    message = query(NAME)
    data = reply(message)
    other = wire.Question(message.id, labels_of("other.test."), wire.T_A)
    assert not other.matches(data)
    assert other.matches(data[:12] + b"\x3f")                    # name past the end
    assert other.matches(data[:question_end(data) - 2])         # no type and class
    with pytest.raises(wire.Malformed):
        other.matches(data[:11])                                # no header


def test_datagram_verdicts():
    message = query(NAME)
    question = _question(message)
    answer = reply(message, answers=[(NAME, 60, "A", "192.0.2.1")])
    assert wire.datagram_verdict(answer, question) == wire.ANSWER
    assert wire.datagram_verdict(answer[:11], question) == wire.NEXT_SERVER      # undersized
    assert wire.datagram_verdict(reply(query(NAME)), question) == wire.KEEP_WAITING  # other id
    for rcode in ("SERVFAIL", "NOTIMP", "REFUSED"):
        assert wire.datagram_verdict(reply(message, rcode=rcode), question) == wire.NEXT_SERVER
    assert wire.datagram_verdict(reply(message, ra=False), question) == wire.NEXT_SERVER
    assert wire.datagram_verdict(reply(message, ra=False, aa=True), question) == wire.ANSWER
    assert wire.datagram_verdict(reply(message, rcode="NXDOMAIN", ra=False), question) == \
        wire.ANSWER
    assert wire.datagram_verdict(reply(message, tc=True), question) == wire.RETRY_OVER_TCP


def test_referral_needs_no_answer_no_additional_no_aa_no_ra():
    message = query(NAME)
    assert wire.is_referral(reply(message, ra=False))
    assert not wire.is_referral(reply(message, ra=True))
    assert not wire.is_referral(reply(message, ra=False, aa=True))
    assert not wire.is_referral(reply(message, ra=False,
                                      answers=[(NAME, 60, "A", "192.0.2.1")]))
    assert not wire.is_referral(reply(message, ra=False,
                                      additional=[("ns.test.", 60, "A", "192.0.2.53")]))


# ---------------------------------------------------------- res_mkquery

def test_make_query_follows_the_options():
    qname = dns.name.from_text(NAME)
    data, question = wire.make_query(dns, _conf(), qname, wire.T_AAAA)
    parsed = dns.message.from_wire(data)
    assert (question.qid, question.rdtype, question.no_aaaa) == (parsed.id, wire.T_AAAA, False)
    assert parsed.edns < 0 and not parsed.flags & wire.FLAG_AD
    data, question = wire.make_query(dns, _conf("options edns0 trust-ad\n"), qname, wire.T_A)
    parsed = dns.message.from_wire(data)
    assert parsed.edns == 0 and parsed.payload == wire.EDNS_PAYLOAD
    assert parsed.flags & wire.FLAG_AD
    data, question = wire.make_query(dns, _conf("options no-aaaa edns0\n"), qname, wire.T_AAAA)
    parsed = dns.message.from_wire(data)
    assert parsed.question[0].rdtype == wire.T_A and parsed.edns < 0
    assert (question.rdtype, question.no_aaaa) == (wire.T_A, True)


# ------------------------------------------------------------ host names

def test_names_that_are_no_host_names_are_not_queried():
    """nss_dns's check_name() (res_hnok): EAI_NONAME without a query."""
    for name in (b"bad!name.test", b"-lead.test", b"a..b", b"x" * 64 + b".test", b"\\@",
                 b"sp ace.test", b"caf\xc3\xa9.test"):
        assert not wire.res_hnok(dns, name), name
    for name in (b"under_score.test", b"mid-dash.test", b"trailing.dot.", b"x" * 63):
        assert wire.res_hnok(dns, name), name
    assert dns.exception.DNSException  # res_hnok catches dnspython's errors


# ------------------------------------------------------- error mapping

@pytest.mark.parametrize("qtype,status,herrno,err,expected", [
    # AF_INET goes through gethostbyname2_r().
    (wire.T_A, wire.NSS_UNAVAIL, wire.TRY_AGAIN, 0, socket.EAI_AGAIN),        # timeouts
    (wire.T_A, wire.NSS_NOTFOUND, wire.HOST_NOT_FOUND, 0, socket.EAI_NONAME),  # NXDOMAIN
    (wire.T_A, wire.NSS_NOTFOUND, wire.NO_DATA, 0, EAI_NODATA),
    (wire.T_A, wire.NSS_NOTFOUND, wire.TRY_AGAIN, 0, socket.EAI_NONAME),      # SERVFAIL over TCP
    (wire.T_A, wire.NSS_TRYAGAIN, wire.NO_RECOVERY, 0, EAI_NODATA),           # no usable address
    (wire.T_A, wire.NSS_UNAVAIL, wire.NO_RECOVERY, 90, EAI_NODATA),           # unparsable reply
    (wire.T_A, wire.NSS_NOTFOUND, wire.NO_RECOVERY, 0, socket.EAI_NONAME),    # FORMERR
    # AF_INET6: gethosts() keeps only TRY_AGAIN and NO_DATA.
    (wire.T_AAAA, wire.NSS_NOTFOUND, wire.TRY_AGAIN, 0, socket.EAI_AGAIN),
    (wire.T_AAAA, wire.NSS_NOTFOUND, wire.NO_DATA, 0, EAI_NODATA),
    (wire.T_AAAA, wire.NSS_TRYAGAIN, wire.NO_RECOVERY, 0, socket.EAI_NONAME),
    (wire.T_AAAA, wire.NSS_UNAVAIL, wire.NO_RECOVERY, 90, socket.EAI_NONAME),
])
def test_error_mapping(qtype, status, herrno, err, expected):
    assert wire.gai_error(qtype, status, herrno, err) == expected


def test_search_errors_map_through_the_nss_status():
    """ETIMEDOUT / ECONNREFUSED make nss_dns UNAVAIL (EAI_AGAIN for AF_INET
    only with TRY_AGAIN); other ends are NOTFOUND."""
    import errno
    assert wire.search_gai_error(wire.T_A, wire.TRY_AGAIN, errno.ETIMEDOUT) == socket.EAI_AGAIN
    assert wire.search_gai_error(wire.T_A, wire.TRY_AGAIN, 0) == socket.EAI_NONAME
    assert wire.search_gai_error(wire.T_A, wire.HOST_NOT_FOUND, errno.ETIMEDOUT) == \
        socket.EAI_NONAME
    assert wire.search_gai_error(wire.T_AAAA, wire.TRY_AGAIN, 0) == socket.EAI_AGAIN
    assert wire.answer_gai_error(wire.T_A, wire.NSS_UNAVAIL, wire.NO_RECOVERY) == EAI_NODATA
    assert wire.answer_gai_error(wire.T_A, wire.NSS_TRYAGAIN, wire.NO_RECOVERY) == EAI_NODATA
    assert wire.answer_gai_error(wire.T_A, wire.NSS_NOTFOUND, wire.HOST_NOT_FOUND) == \
        socket.EAI_NONAME
