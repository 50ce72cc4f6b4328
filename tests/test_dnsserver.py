# -*- coding: utf-8 -*-
"""Tests of tests/dnsserver.py against dnspython clients and raw sockets.

All traffic goes to 127.0.0.1 / ::1 only.

Note: importing eventlet (dnsserver does, to reach the unpatched modules)
imports eventlet.support.greendns, which replaces ``dns.query.udp`` and
``dns.query.tcp`` process-wide with its own copies (unless
EVENTLET_NO_GREENDNS is set).  Either way they send real packets; the tests
below accept both flavours where they differ.
"""

from __future__ import absolute_import, division, print_function

import random
import struct
import subprocess
import threading
import time

import pytest

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

import children
from dnsserver import DNSServer, Query

WWW = 'www.example.test'


def udp(server, name, rdtype='A', timeout=1.0, **kw):
    q = dns.message.make_query(name, rdtype, **kw)
    return dns.query.udp(q, server.host, port=server.port, timeout=timeout)


def tcp(server, name, rdtype='A', timeout=1.0):
    q = dns.message.make_query(name, rdtype)
    return dns.query.tcp(q, server.host, port=server.port, timeout=timeout)


QUERY = {'udp': udp, 'tcp': tcp}


def rrsets(msg_section):
    """[(name, type, ttl, sorted rdata texts)] of a message section."""
    out = []
    for rrset in msg_section:
        out.append((rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype),
                    rrset.ttl, sorted(r.to_text() for r in rrset)))
    return out


def raw_udp_exchange(server, wire, timeout=1.0):
    s = socket_mod().socket(socket_mod().AF_INET, socket_mod().SOCK_DGRAM)
    try:
        s.settimeout(timeout)
        s.sendto(wire, server.address)
        return s.recvfrom(65535)[0]
    finally:
        s.close()


def raw_tcp_exchange(server, wire, timeout=1.0):
    sm = socket_mod()
    s = sm.create_connection(server.address, timeout)
    try:
        s.sendall(struct.pack('!H', len(wire)) + wire)
        buf = b''
        while len(buf) < 2:
            chunk = s.recv(2 - len(buf))
            assert chunk, 'connection closed before a reply'
            buf += chunk
        n = struct.unpack('!H', buf)[0]
        buf = b''
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            assert chunk, 'connection closed mid-reply'
            buf += chunk
        return buf
    finally:
        s.close()


def socket_mod():
    import socket
    return socket


@pytest.fixture
def zone(dns_server_empty):
    s = dns_server_empty
    s.add_soa('example.test', minimum=30, ttl=3600)
    s.add(WWW, 'A', '192.0.2.10', ttl=120)
    s.add(WWW, 'A', '192.0.2.11', ttl=120)
    s.add(WWW, 'AAAA', '2001:db8::10', ttl=90)
    s.add('alias.example.test', 'CNAME', 'alias2.example.test', ttl=300)
    s.add('alias2.example.test', 'CNAME', WWW + '.', ttl=200)
    s.add('dangling.example.test', 'CNAME', 'gone.example.test', ttl=50)
    s.add('txtonly.example.test', 'TXT', '"hello"')
    return s


# ---------------------------------------------------------------- answers

@pytest.mark.parametrize('transport', ['udp', 'tcp'])
def test_a_and_aaaa(zone, transport):
    r = QUERY[transport](zone, WWW, 'A')
    assert r.rcode() == dns.rcode.NOERROR
    assert r.flags & dns.flags.QR and r.flags & dns.flags.AA
    assert rrsets(r.answer) == [
        (WWW + '.', 'A', 120, ['192.0.2.10', '192.0.2.11'])]
    assert r.authority == []
    r = QUERY[transport](zone, WWW, 'AAAA')
    assert rrsets(r.answer) == [(WWW + '.', 'AAAA', 90, ['2001:db8::10'])]
    assert zone.count(WWW, 'A', transport) == 1
    assert zone.count(WWW, 'AAAA', transport) == 1
    assert zone.count(transport='udp' if transport == 'tcp' else 'tcp') == 0


@pytest.mark.parametrize('transport', ['udp', 'tcp'])
def test_cname_chain(zone, transport):
    r = QUERY[transport](zone, 'alias.example.test', 'A')
    assert r.rcode() == dns.rcode.NOERROR
    assert rrsets(r.answer) == [
        ('alias.example.test.', 'CNAME', 300, ['alias2.example.test.']),
        ('alias2.example.test.', 'CNAME', 200, ['www.example.test.']),
        (WWW + '.', 'A', 120, ['192.0.2.10', '192.0.2.11']),
    ]
    # The chain is followed inside the server: one query only.
    assert zone.count() == 1
    # Asking for the CNAME itself does not follow it.
    r = QUERY[transport](zone, 'alias.example.test', 'CNAME')
    assert rrsets(r.answer) == [
        ('alias.example.test.', 'CNAME', 300, ['alias2.example.test.'])]
    # Chain to a name without AAAA: NODATA after the chain.
    r = QUERY[transport](zone, 'alias.example.test', 'AAAA')
    assert r.rcode() == dns.rcode.NOERROR
    assert [x[1] for x in rrsets(r.answer)] == ['CNAME', 'CNAME', 'AAAA']


def test_cname_to_missing_name_is_nxdomain_with_chain(zone):
    r = udp(zone, 'dangling.example.test', 'A')
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert rrsets(r.answer) == [
        ('dangling.example.test.', 'CNAME', 50, ['gone.example.test.'])]
    assert [x[1] for x in rrsets(r.authority)] == ['SOA']


def test_cname_loop_is_servfail(dns_server_empty):
    dns_server_empty.add('a.loop.test', 'CNAME', 'b.loop.test')
    dns_server_empty.add('b.loop.test', 'CNAME', 'a.loop.test')
    assert udp(dns_server_empty, 'a.loop.test').rcode() == dns.rcode.SERVFAIL


@pytest.mark.parametrize('transport', ['udp', 'tcp'])
def test_nxdomain_carries_soa_with_negative_ttl(zone, transport):
    r = QUERY[transport](zone, 'nope.example.test', 'A')
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.answer == []
    assert rrsets(r.authority) == [
        ('example.test.', 'SOA', 30,
         ['ns.example.test. hostmaster.example.test. 1 3600 600 86400 30'])]


def test_negative_ttl_is_min_of_soa_ttl_and_minimum(dns_server_empty):
    dns_server_empty.add_soa('short.test', ttl=7, minimum=300)
    r = udp(dns_server_empty, 'x.short.test')
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.authority[0].ttl == 7
    # The SOA itself, asked for at the apex, has its own TTL.
    r = udp(dns_server_empty, 'short.test', 'SOA')
    assert rrsets(r.answer)[0][:3] == ('short.test.', 'SOA', 7)


def test_deepest_zone_wins(dns_server_empty):
    dns_server_empty.add_soa('test', minimum=100)
    dns_server_empty.add_soa('sub.test', minimum=5)
    assert udp(dns_server_empty, 'a.sub.test').authority[0].name.to_text() == \
        'sub.test.'
    assert udp(dns_server_empty, 'a.other.test').authority[0].name.to_text() == \
        'test.'


def test_nxdomain_without_zone_has_no_authority(dns_server_empty):
    r = udp(dns_server_empty, 'unknown.invalid')
    assert r.rcode() == dns.rcode.NXDOMAIN
    assert r.authority == [] and r.answer == []


@pytest.mark.parametrize('transport', ['udp', 'tcp'])
def test_nodata(zone, transport):
    r = QUERY[transport](zone, 'txtonly.example.test', 'A')
    assert r.rcode() == dns.rcode.NOERROR
    assert r.answer == []
    assert rrsets(r.authority)[0][:3] == ('example.test.', 'SOA', 30)


def test_empty_non_terminal_is_nodata(dns_server_empty):
    dns_server_empty.add('a.b.c.test', 'A', '192.0.2.1')
    for name in ('b.c.test', 'c.test'):
        r = udp(dns_server_empty, name)
        assert r.rcode() == dns.rcode.NOERROR, name
        assert r.answer == []
    assert udp(dns_server_empty, 'x.c.test').rcode() == dns.rcode.NXDOMAIN


def test_names_are_case_insensitive(zone):
    r = udp(zone, 'WWW.Example.TEST', 'A')
    assert r.rcode() == dns.rcode.NOERROR
    assert len(r.answer) == 1
    assert zone.queries[0].name == WWW


def test_other_types_and_any(dns_server_empty):
    dns_server_empty.add('mx.test', 'MX', '10 mail.mx.test')
    dns_server_empty.add('mx.test', 'TXT', '"v=spf1 -all"')
    r = udp(dns_server_empty, 'mx.test', 'MX')
    assert rrsets(r.answer) == [('mx.test.', 'MX', 60, ['10 mail.mx.test.'])]
    r = tcp(dns_server_empty, 'mx.test', 'ANY')
    assert sorted(x[1] for x in rrsets(r.answer)) == ['MX', 'TXT']


def test_remove_and_clear_records(zone):
    zone.remove(WWW, 'A')
    r = udp(zone, WWW, 'A')
    assert r.rcode() == dns.rcode.NOERROR and r.answer == []
    zone.remove(WWW)
    assert udp(zone, WWW, 'A').rcode() == dns.rcode.NXDOMAIN
    zone.clear_records()
    r = udp(zone, 'nope.example.test')
    assert r.rcode() == dns.rcode.NXDOMAIN and r.authority == []


def test_add_rejects_bad_values(dns_server_empty):
    with pytest.raises(Exception):
        dns_server_empty.add('bad.test', 'A', 'not-an-address')
    # The failed add left nothing behind.
    assert udp(dns_server_empty, 'bad.test').rcode() == dns.rcode.NXDOMAIN


def test_large_answer_is_truncated_over_udp_only(dns_server_empty):
    for i in range(60):
        dns_server_empty.add('big.test', 'A', '192.0.2.%d' % (i + 1))
    r = udp(dns_server_empty, 'big.test')
    assert r.flags & dns.flags.TC and r.answer == []
    r = tcp(dns_server_empty, 'big.test')
    assert not r.flags & dns.flags.TC
    assert len(r.answer[0]) == 60
    # EDNS with a large payload lifts the 512-byte limit.
    r = udp(dns_server_empty, 'big.test', use_edns=0, payload=4096)
    assert not r.flags & dns.flags.TC and len(r.answer[0]) == 60


def test_ipv6_loopback_server(dns_server_empty_v6):
    dns_server_empty_v6.add(WWW, 'A', '192.0.2.10')
    for fn in (udp, tcp):
        r = fn(dns_server_empty_v6, WWW)
        assert rrsets(r.answer)[0][3] == ['192.0.2.10']
    assert dns_server_empty_v6.address == ('::1', dns_server_empty_v6.port)


# ------------------------------------------------------------- behaviours

@pytest.mark.parametrize('transport', ['udp', 'tcp'])
@pytest.mark.parametrize('kind,rcode', [('servfail', dns.rcode.SERVFAIL),
                                        ('refused', dns.rcode.REFUSED),
                                        ('nxdomain', dns.rcode.NXDOMAIN)])
def test_error_rcodes(zone, transport, kind, rcode):
    zone.set_behavior(kind, name=WWW)
    r = QUERY[transport](zone, WWW, 'A')
    assert r.rcode() == rcode
    assert r.answer == []
    if kind == 'nxdomain':
        assert rrsets(r.authority)[0][1] == 'SOA'
    # Other names are unaffected.
    assert QUERY[transport](zone, 'alias2.example.test').rcode() == \
        dns.rcode.NOERROR


@pytest.mark.parametrize('transport', ['udp', 'tcp'])
def test_drop(zone, transport):
    zone.set_behavior('drop', name=WWW)
    start = time.time()
    with pytest.raises(dns.exception.Timeout):
        QUERY[transport](zone, WWW, timeout=0.3)
    assert time.time() - start >= 0.25
    assert zone.count(WWW, 'A', transport) == 1  # dropped, but logged
    assert QUERY[transport](zone, 'alias2.example.test').answer


def _blast_udp(server, n, name=WWW, settle=0.5, batch=10):
    """Send n queries (ids 0..n-1); -> set of ids that got a reply.

    Sends in batches and waits until the server has logged each batch, so no
    datagram is lost in a kernel buffer and drops are the server's alone.
    """
    sm = socket_mod()
    s = sm.socket(sm.AF_INET, sm.SOCK_DGRAM)
    s.setsockopt(sm.SOL_SOCKET, sm.SO_RCVBUF, 1 << 20)
    replied = set()

    def drain(timeout):
        s.settimeout(timeout)
        while True:
            try:
                data = s.recvfrom(65535)[0]
            except (sm.timeout, sm.error):
                return
            replied.add(dns.message.from_wire(data).id)
    try:
        base = server.count(name)
        for i in range(n):
            q = dns.message.make_query(name, 'A')
            q.id = i
            s.sendto(q.to_wire(), server.address)
            if i % batch == batch - 1 or i == n - 1:
                deadline = time.time() + 5
                while server.count(name) < base + i + 1:
                    assert time.time() < deadline, 'server lost queries'
                    time.sleep(0.001)
                drain(0.001)
        drain(settle)
        return replied
    finally:
        s.close()


@pytest.mark.slow
def test_drop_fraction_is_about_right_and_deterministic(zone):
    n, fraction, seed = 200, 0.3, 12345
    zone.set_behavior('drop_fraction', name=WWW, fraction=fraction, seed=seed)
    replied = _blast_udp(zone, n)
    assert zone.count(WWW) == n
    rng = random.Random(seed)
    expected = set(i for i in range(n) if rng.random() >= fraction)
    assert replied == expected
    dropped = n - len(replied)
    assert 0.2 * n <= dropped <= 0.4 * n
    # Setting the rule again restarts the same sequence.
    zone.set_behavior('drop_fraction', name=WWW, fraction=fraction, seed=seed)
    assert _blast_udp(zone, n) == expected


def test_drop_fraction_extremes(zone):
    zone.set_behavior('drop_fraction', fraction=0.0)
    assert len(_blast_udp(zone, 20, settle=0.3)) == 20
    zone.set_behavior('drop_fraction', fraction=1.0)
    assert len(_blast_udp(zone, 20, settle=0.3)) == 0


def test_delay_does_not_block_other_queries(zone):
    zone.set_behavior('delay', name=WWW, seconds=0.6)
    results = {}

    def slow():
        t = time.time()
        r = udp(zone, WWW, timeout=3)
        results['slow'] = (time.time() - t, r)
    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.05)
    start = time.time()
    r = udp(zone, 'alias2.example.test')
    assert tcp(zone, 'alias2.example.test').answer
    fast_elapsed = time.time() - start
    r2 = udp(zone, WWW, 'AAAA', timeout=3)  # same name, so delayed too
    t.join(5)
    assert r.answer and fast_elapsed < 0.3
    slow_elapsed, slow_reply = results['slow']
    assert 0.55 <= slow_elapsed < 2.0
    assert rrsets(slow_reply.answer)[0][3] == ['192.0.2.10', '192.0.2.11']
    assert r2.answer


def test_delay_parameter_composes_with_other_kinds(zone):
    zone.set_behavior('servfail', name=WWW, delay=0.4)
    start = time.time()
    r = tcp(zone, WWW, timeout=3)
    assert r.rcode() == dns.rcode.SERVFAIL
    assert time.time() - start >= 0.35


def test_truncate_then_tcp(zone):
    zone.set_behavior('truncate', name=WWW)
    r = udp(zone, WWW)
    assert r.flags & dns.flags.TC
    assert r.answer == [] and r.rcode() == dns.rcode.NOERROR
    r = tcp(zone, WWW)
    assert not r.flags & dns.flags.TC
    assert rrsets(r.answer)[0][3] == ['192.0.2.10', '192.0.2.11']
    assert [(q.transport, q.name, q.rdtype) for q in zone.queries] == [
        ('udp', WWW, 'A'), ('tcp', WWW, 'A')]


@pytest.mark.parametrize('exchange', [raw_udp_exchange, raw_tcp_exchange])
def test_wrong_id(zone, exchange):
    zone.set_behavior('wrong_id', name=WWW)
    q = dns.message.make_query(WWW, 'A')
    q.id = 0xffff
    reply = dns.message.from_wire(exchange(zone, q.to_wire()))
    assert reply.id == 0  # (id + 1) % 65536
    assert reply.question[0].name == q.question[0].name
    assert reply.answer  # otherwise a proper answer
    if exchange is raw_udp_exchange:
        # A validating client never accepts it: dnspython waits for the right
        # id (Timeout); eventlet's greendns copy raises BadResponse.
        with pytest.raises((dns.exception.Timeout, dns.query.BadResponse)):
            udp(zone, WWW, timeout=0.3)


@pytest.mark.parametrize('exchange', [raw_udp_exchange, raw_tcp_exchange])
def test_wrong_question(zone, exchange):
    zone.set_behavior('wrong_question', name=WWW)
    q = dns.message.make_query(WWW, 'A')
    reply = dns.message.from_wire(exchange(zone, q.to_wire()))
    assert reply.id == q.id
    assert reply.question[0].name.to_text() == 'wrong-question.invalid.'
    assert reply.question[0].rdtype == dns.rdatatype.A
    zone.set_behavior('wrong_question', name=WWW, qname='Other.Example.Test')
    reply = dns.message.from_wire(exchange(zone, q.to_wire()))
    assert reply.question[0].name.to_text() == 'other.example.test.'


@pytest.mark.parametrize('exchange', [raw_udp_exchange, raw_tcp_exchange])
def test_malformed(zone, exchange):
    zone.set_behavior('malformed', name=WWW)
    q = dns.message.make_query(WWW, 'A')
    data = exchange(zone, q.to_wire())
    assert struct.unpack('!H', data[:2])[0] == q.id
    with pytest.raises(Exception):
        dns.message.from_wire(data)
    zone.set_behavior('malformed', name=WWW, data=b'\x00garbage')
    assert exchange(zone, q.to_wire()) == b'\x00garbage'


def test_custom_handler(zone):
    seen = []

    def handler(query, transport):
        seen.append((query.question[0].name.to_text(), transport))
        if transport == 'tcp':
            return None
        r = dns.message.make_response(query)
        r.set_rcode(dns.rcode.NOTIMP)
        return r.to_wire()
    zone.set_behavior('custom', name=WWW, handler=handler)
    assert udp(zone, WWW).rcode() == dns.rcode.NOTIMP
    with pytest.raises(dns.exception.Timeout):
        tcp(zone, WWW, timeout=0.3)
    assert seen == [(WWW + '.', 'udp'), (WWW + '.', 'tcp')]


def test_rule_precedence(zone):
    zone.set_behavior('refused')                               # global
    zone.set_behavior('servfail', rdtype='AAAA')               # any name
    zone.set_behavior('nxdomain', name=WWW)                    # name
    zone.set_behavior('answer', name=WWW, rdtype='AAAA')       # name+type
    assert udp(zone, 'alias2.example.test').rcode() == dns.rcode.REFUSED
    assert udp(zone, 'alias2.example.test', 'AAAA').rcode() == \
        dns.rcode.SERVFAIL
    assert udp(zone, WWW, 'A').rcode() == dns.rcode.NXDOMAIN
    r = udp(zone, WWW, 'AAAA')
    assert r.rcode() == dns.rcode.NOERROR and r.answer
    zone.clear_behavior(name=WWW, rdtype='AAAA')
    assert udp(zone, WWW, 'AAAA').rcode() == dns.rcode.NXDOMAIN
    zone.clear_behavior(name=WWW)
    assert udp(zone, WWW, 'AAAA').rcode() == dns.rcode.SERVFAIL
    zone.reset_behaviors()
    assert udp(zone, WWW, 'AAAA').answer


def test_behavior_validation(dns_server_empty):
    with pytest.raises(ValueError):
        dns_server_empty.set_behavior('explode')
    with pytest.raises(TypeError):
        dns_server_empty.set_behavior('drop', seconds=1)
    with pytest.raises(ValueError):
        dns_server_empty.set_behavior('drop_fraction', fraction=1.5)
    with pytest.raises(TypeError):
        dns_server_empty.set_behavior('custom')


# -------------------------------------------------------------- query log

def test_query_log_and_count(zone):
    t0 = time.time()
    udp(zone, WWW, 'A')
    udp(zone, 'Alias.Example.Test.', 'AAAA')
    tcp(zone, WWW, 'A')
    t1 = time.time()
    log = zone.queries
    assert [(q.transport, q.name, q.rdtype) for q in log] == [
        ('udp', WWW, 'A'),
        ('udp', 'alias.example.test', 'AAAA'),
        ('tcp', WWW, 'A'),
    ]
    assert all(isinstance(q, Query) for q in log)
    assert all(t0 - 0.01 <= q.time <= t1 + 0.01 for q in log)
    assert zone.count() == 3
    assert zone.count(WWW) == 2
    assert zone.count('WWW.EXAMPLE.TEST.') == 2
    assert zone.count(WWW, 'A', 'udp') == 1
    assert zone.count(rdtype='aaaa') == 1
    assert zone.count(rdtype=dns.rdatatype.AAAA) == 1
    assert zone.count(transport='tcp') == 1
    # queries is a snapshot, not a live view.
    log.append('junk')
    assert len(zone.queries) == 3
    zone.clear_log()
    assert zone.queries == [] and zone.count() == 0


def test_garbage_queries_are_counted_not_logged(zone):
    sm = socket_mod()
    s = sm.socket(sm.AF_INET, sm.SOCK_DGRAM)
    s.settimeout(1)
    try:
        s.sendto(b'\x12\x34garbage', zone.address)
        reply = s.recvfrom(512)[0]
    finally:
        s.close()
    assert reply[:2] == b'\x12\x34'
    assert struct.unpack('!H', reply[2:4])[0] & 0xf == dns.rcode.FORMERR
    assert zone.bad_queries == 1 and zone.queries == []
    assert udp(zone, WWW).answer  # still serving


def test_concurrent_clients_and_rule_changes(zone):
    errors = []
    n_threads, per_thread = 6, 30

    def client(i):
        try:
            for j in range(per_thread):
                fn = udp if (i + j) % 2 else tcp
                r = fn(zone, WWW, timeout=3)
                assert r.rcode() in (dns.rcode.NOERROR, dns.rcode.SERVFAIL)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(repr(e))

    def flipper():
        for k in range(40):
            if k % 2:
                zone.set_behavior('servfail', name=WWW)
            else:
                zone.clear_behavior(name=WWW)
            time.sleep(0.002)
    threads = [threading.Thread(target=client, args=(i,))
               for i in range(n_threads)] + [threading.Thread(target=flipper)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert zone.count(WWW) == n_threads * per_thread
    assert zone.count(WWW, transport='udp') == n_threads * per_thread // 2


# -------------------------------------------------------------- lifecycle

def test_lifecycle_and_fixed_port_reuse():
    server = DNSServer()
    assert server.port is None
    with server:
        port = server.port
        assert server.address == ('127.0.0.1', port)
        server.add(WWW, 'A', '192.0.2.10')
        tcp(server, WWW)  # leave a TCP connection in TIME_WAIT, maybe
    # Stopped: nothing listens any more.
    sm = socket_mod()
    with pytest.raises(sm.error):
        sm.create_connection(('127.0.0.1', port), 0.5).close()
    server.stop()  # idempotent
    # The same port can be bound again right away (UDP and TCP).
    again = DNSServer(port=port).start()
    try:
        again.add(WWW, 'A', '192.0.2.20')
        assert rrsets(udp(again, WWW).answer)[0][3] == ['192.0.2.20']
        assert rrsets(tcp(again, WWW).answer)[0][3] == ['192.0.2.20']
    finally:
        again.stop()


def test_stop_closes_idle_tcp_clients(dns_server_empty):
    sm = socket_mod()
    c = sm.create_connection(dns_server_empty.address, 2)
    try:
        time.sleep(0.05)
        start = time.time()
        dns_server_empty.stop()
        assert time.time() - start < 2
        c.settimeout(2)
        assert c.recv(10) == b''  # the server closed the connection
    finally:
        c.close()


def test_ephemeral_ports_differ_and_are_free_for_both():
    servers = [DNSServer().start() for _ in range(5)]
    try:
        ports = set(s.port for s in servers)
        assert len(ports) == 5
        for s in servers:
            s.add(WWW, 'A', '192.0.2.%d' % (s.port % 250 + 1))
            assert udp(s, WWW).answer and tcp(s, WWW).answer
    finally:
        for s in servers:
            s.stop()


_MONKEY_CHILD = r'''
from __future__ import print_function
import eventlet
eventlet.monkey_patch()
import time
import dns.message
from eventlet import patcher
from dnsserver import DNSServer, _threading
osock = patcher.original('socket')
otime = patcher.original('time')
import threading as green_threading

server = DNSServer().start()
server.add('www.example.test', 'A', '192.0.2.10')
# The hub (main) thread now blocks in C (recv on a blocking socket); no
# greenlet can run, so only native threads can answer.
s = osock.socket(osock.AF_INET, osock.SOCK_DGRAM)
s.settimeout(3)
q = dns.message.make_query('www.example.test', 'A')
start = otime.time()
s.sendto(q.to_wire(), server.address)
data = s.recvfrom(512)[0]
elapsed = otime.time() - start
r = dns.message.from_wire(data)
assert r.id == q.id and r.answer, r
# Delayed replies come from the native scheduler thread while the hub sleeps
# in C.
server.set_behavior('delay', seconds=0.3)
s.sendto(q.to_wire(), server.address)
otime.sleep(0.5)
data = s.recvfrom(512)[0]
assert dns.message.from_wire(data).answer
assert server._threads[0].__class__ is _threading.Thread
assert green_threading.Thread is not _threading.Thread
server.stop()
print('OK %.3f' % elapsed)
'''


def test_serves_while_monkey_patched_hub_is_blocked_in_c():
    pytest.importorskip('eventlet')
    p = children.popen(['-c', _MONKEY_CHILD],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    out = out.decode('utf-8', 'replace')
    err = err.decode('utf-8', 'replace')
    assert p.returncode == 0, out + err
    assert out.startswith('OK '), out + err
    assert float(out.split()[1]) < 1.0
