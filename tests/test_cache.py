"""The answer cache (greenfix/cache.py): query counts at a real DNS server on
loopback, TTLs and their clamps, negative caching and hold-down,
single-flight, serve-stale, the LRU bound, invalidation by file changes,
stats()/clear_cache(), and use from native threads.

Every test patches greenfix with ``resolver="greendns"`` and
``nameservers=["127.0.0.1:<port>"]`` of a ``tests/dnsserver.py`` server, and
a hosts file and resolv.conf of its own: nothing is resolved through the
machine's configuration.
"""

from __future__ import absolute_import, division

import gc
import socket
import time
import weakref

import eventlet
import pytest
import six
from eventlet import patcher, tpool
from eventlet.green import socket as green_socket

import greenfix
from greenfix import hotpath
from greenfix.control import _state
from dnsserver import ipv6_loopback_available
from heartbeat import Heartbeat
from profiled import greenfix_functions_run

native_threading = patcher.original("threading")

EAI_NODATA = getattr(socket, "EAI_NODATA", socket.EAI_NONAME)
NAME = "svc.example.test"


@pytest.fixture
def resolv_conf(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text(u"nameserver 127.0.0.1\noptions ndots:1\n")
    return str(path)


def _udp(family, host, port=0):
    """A green UDP socket bound to ``(host, port)``, reads time out in 2 s."""
    sock = green_socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((host, port))
    sock.settimeout(2)
    return sock


@pytest.fixture
def receiver():
    sock = _udp(socket.AF_INET, "127.0.0.1")
    yield sock
    sock.close()


@pytest.fixture
def sender():
    sock = green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield sock
    sock.close()


@pytest.fixture
def patch(dns_server_example_zone, hosts_file, resolv_conf):
    """``patch(**options)``: greenfix patched to ask only ``dns_server_example_zone``."""
    assert not greenfix.is_patched()

    def apply(**options):
        # resolver="greendns": no fallback to libc, which would read the
        # machine's resolv.conf.
        settings = dict(resolver="greendns",
                        nameservers=["127.0.0.1:%d" % dns_server_example_zone.port],
                        hosts=hosts_file, resolv_conf=resolv_conf, timeout=1, attempts=1)
        settings.update(options)
        assert greenfix.patch(**settings)
        return dns_server_example_zone
    yield apply
    greenfix.unpatch()


def translate(host, port=9, family=socket.AF_INET):
    """What the wrapped sendto hands to the C method for ``(host, port)``."""
    return _state.translator.translate(family, (b"x", (host, port)), 1, "sendto")


def cache():
    return _state.translator.cache


def eai(call):
    with pytest.raises(socket.gaierror) as info:
        call()
    return info.value.errno


# ---------------------------------------------------------------- query counts

def test_10000_sendto_to_a_name_cost_one_query(patch, sender, receiver):
    server = patch()
    address = (NAME, receiver.getsockname()[1])
    for _ in range(10000):
        sender.sendto(b"x", address)
    assert server.count(NAME, "A") == 1
    assert server.count(NAME, "AAAA") == 0
    assert receiver.recv(10) == b"x"
    stats = greenfix.stats()
    assert stats["misses"] == 1 and stats["hits"] == 9999, stats


def test_without_the_cache_every_call_queries(patch, sender):
    server = patch(cache_size=0)
    for _ in range(20):
        sender.sendto(b"x", (NAME, 9))
    assert server.count(NAME, "A") == 20
    assert greenfix.stats()["entries"] == 0


def test_hot_path_leaves_what_cpython_rejects_alone(patch):
    patch()
    host = NAME.encode("ascii")
    assert translate(host) == ("127.0.0.1", 9)
    assert translate(host) == ("127.0.0.1", 9)      # bytes: served by the slow path
    assert translate(NAME) == ("127.0.0.1", 9)
    assert translate(NAME) == ("127.0.0.1", 9)      # str: the hot path
    if six.PY3:  # memoryview equals b"name": CPython raises TypeError for it
        view = memoryview(host)
        assert translate(view) == (view, 9)
    assert greenfix.stats()["misses"] == 1


def test_keyed_by_family_and_by_name_bytes_not_spelling(patch):
    if not ipv6_loopback_available():
        pytest.skip("no IPv6 loopback")
    server = patch()
    assert translate(NAME) == ("127.0.0.1", 9)
    assert translate(NAME.encode("ascii")) == ("127.0.0.1", 9)
    assert translate(NAME, family=socket.AF_INET6) == ("::1", 9)
    args = (b"x", (NAME, 9, 7, 0))
    assert _state.translator.translate(socket.AF_INET6, args, 1, "sendto") == ("::1", 9, 7, 0)
    assert server.count(NAME, "A") == 1 and server.count(NAME, "AAAA") == 1


def test_single_flight_1000_green_threads_one_query_per_type(patch):
    server = patch()
    server.set_behavior("delay", name=NAME, seconds=0.2)
    families = [socket.AF_INET]
    if ipv6_loopback_available():
        families.append(socket.AF_INET6)
    socks = dict((family, green_socket.socket(family, socket.SOCK_DGRAM)) for family in families)
    outcomes = []

    def send(family):
        socks[family].sendto(b"x", (NAME, 9))
        outcomes.append(family)

    pool = eventlet.GreenPool(1000)
    for i in range(1000):
        pool.spawn(send, families[i % len(families)])
    pool.waitall()
    assert len(outcomes) == 1000
    assert server.count(NAME, "A") == 1
    assert server.count(NAME, "AAAA") == (1 if len(families) == 2 else 0)
    stats = greenfix.stats()
    assert stats["misses"] == len(families)
    assert stats["joins"] == 1000 - len(families), stats
    for sock in socks.values():
        sock.close()


def test_a_killed_leader_hands_over_to_a_waiting_caller(patch):
    server = patch()
    server.set_behavior("delay", name=NAME, seconds=0.2)
    leader = eventlet.spawn(translate, NAME)
    eventlet.sleep(0.02)
    follower = eventlet.spawn(translate, NAME)
    eventlet.sleep(0.02)
    leader.kill()
    assert follower.wait() == ("127.0.0.1", 9)
    assert server.count(NAME, "A") == 2
    assert greenfix.stats()["in_flight"] == 0


# ---------------------------------------------------------------- TTLs

def test_answer_expires_after_its_ttl(patch):
    server = patch(min_ttl=0, serve_stale=False)
    server.add("short.example.test", "A", "127.0.0.3", ttl=1)
    assert translate("short.example.test")[0] == "127.0.0.3"
    assert translate("short.example.test")[0] == "127.0.0.3"
    assert server.count("short.example.test", "A") == 1
    eventlet.sleep(1.05)
    assert translate("short.example.test")[0] == "127.0.0.3"
    assert server.count("short.example.test", "A") == 2


def test_smallest_ttl_of_a_cname_chain(patch):
    server = patch(min_ttl=0, serve_stale=False)
    server.add("target.example.test", "A", "127.0.0.4", ttl=3600)
    server.add("chain.example.test", "CNAME", "target.example.test", ttl=1)
    assert translate("chain.example.test")[0] == "127.0.0.4"
    eventlet.sleep(1.05)
    translate("chain.example.test")
    assert server.count("chain.example.test", "A") == 2


def test_min_ttl_and_max_ttl_clamp(patch):
    server = patch(min_ttl=0.6, max_ttl=1, serve_stale=False)
    server.add("zero.example.test", "A", "127.0.0.5", ttl=0)
    server.add("long.example.test", "A", "127.0.0.6", ttl=86400)
    translate("zero.example.test")
    translate("long.example.test")
    eventlet.sleep(0.3)
    translate("zero.example.test")          # TTL 0 held for min_ttl
    assert server.count("zero.example.test", "A") == 1
    eventlet.sleep(0.8)
    translate("long.example.test")          # TTL 86400 held for max_ttl only
    translate("zero.example.test")
    assert server.count("long.example.test", "A") == 2
    assert server.count("zero.example.test", "A") == 2


def test_answers_without_ttl_use_default_ttl(patch):
    patch(default_ttl=1, serve_stale=False)
    assert translate("files-only.test")[0] == "127.0.0.1"   # from the hosts file
    translate("files-only.test")
    assert greenfix.stats()["misses"] == 1
    eventlet.sleep(1.05)
    translate("files-only.test")
    assert greenfix.stats()["misses"] == 2


# ---------------------------------------------------------------- failures

def test_nxdomain_cached_for_the_soa_minimum(patch):
    server = patch(min_ttl=0)
    server.add_soa("neg.test", minimum=1)
    assert eai(lambda: translate("missing.neg.test")) == socket.EAI_NONAME
    assert eai(lambda: translate("missing.neg.test")) == socket.EAI_NONAME
    assert server.count("missing.neg.test", "A") == 1
    eventlet.sleep(1.05)
    assert eai(lambda: translate("missing.neg.test")) == socket.EAI_NONAME
    assert server.count("missing.neg.test", "A") == 2
    stats = greenfix.stats()
    assert stats["failures"] == {"EAI_NONAME": 2} and stats["negative_hits"] == 1


def test_nodata_cached_and_negative_ttl_clamped(patch):
    server = patch(min_ttl=0, max_negative_ttl=1)   # the zone's SOA minimum is 30
    assert eai(lambda: translate("v4only.example.test", family=socket.AF_INET6)) == EAI_NODATA
    assert eai(lambda: translate("v4only.example.test", family=socket.AF_INET6)) == EAI_NODATA
    assert server.count("v4only.example.test", "AAAA") == 1
    eventlet.sleep(1.05)
    eai(lambda: translate("v4only.example.test", family=socket.AF_INET6))
    assert server.count("v4only.example.test", "AAAA") == 2


def test_nxdomain_without_soa_uses_negative_ttl(patch):
    server = patch(min_ttl=0, negative_ttl=0.5)
    assert eai(lambda: translate("nozone.invalid")) == socket.EAI_NONAME
    eai(lambda: translate("nozone.invalid"))
    assert server.count("nozone.invalid", "A") == 1
    eventlet.sleep(0.55)
    eai(lambda: translate("nozone.invalid"))
    assert server.count("nozone.invalid", "A") == 2


def test_servfail_only_held_down(patch):
    server = patch(hold_down=0.5)
    server.set_behavior("servfail", name="flaky.example.test")
    server.add("flaky.example.test", "A", "127.0.0.8")
    assert eai(lambda: translate("flaky.example.test")) == socket.EAI_AGAIN
    assert eai(lambda: translate("flaky.example.test")) == socket.EAI_AGAIN
    assert server.count("flaky.example.test", "A") == 1      # held down
    server.clear_behavior(name="flaky.example.test")
    eventlet.sleep(0.55)
    assert translate("flaky.example.test")[0] == "127.0.0.8"
    assert server.count("flaky.example.test", "A") == 2
    assert greenfix.stats()["failures"] == {"EAI_AGAIN": 1}


def test_timeouts_only_held_down(patch):
    server = patch(hold_down=0.3, timeout=0.2)
    server.set_behavior("drop", name=NAME)
    assert eai(lambda: translate(NAME)) == socket.EAI_AGAIN
    started = time.time()
    assert eai(lambda: translate(NAME)) == socket.EAI_AGAIN
    assert time.time() - started < 0.1
    server.clear_behavior(name=NAME)
    eventlet.sleep(0.35)
    assert translate(NAME)[0] == "127.0.0.1"


# ---------------------------------------------------------------- serve-stale

def test_stale_answer_served_at_once_while_dns_is_black_holed(patch, sender, receiver):
    server = patch(min_ttl=0, max_stale=1, hold_down=0.2, timeout=0.2)
    server.add("stale.example.test", "A", "127.0.0.1", ttl=1)
    port = receiver.getsockname()[1]
    sender.sendto(b"first", ("stale.example.test", port))
    assert receiver.recv(10) == b"first"
    eventlet.sleep(1.05)
    server.set_behavior("drop")
    with Heartbeat() as beat:
        started = time.time()
        sender.sendto(b"stale", ("stale.example.test", port))
        took = time.time() - started
        assert receiver.recv(10) == b"stale"
        assert took < 0.02, took
        eventlet.sleep(0.3)              # the refresh times out meanwhile
        sender.sendto(b"again", ("stale.example.test", port))
        assert receiver.recv(10) == b"again"
    assert beat.gap < 0.05
    stats = greenfix.stats()
    assert stats["stale"] == 2 and stats["refreshes"] >= 1, stats
    assert server.count("stale.example.test", "A") >= 2
    eventlet.sleep(0.8)                  # past max_stale
    errno = eai(lambda: sender.sendto(b"late", ("stale.example.test", port)))
    assert errno == socket.EAI_AGAIN


def test_refresh_replaces_the_stale_answer(patch):
    server = patch(min_ttl=0)
    server.add("moving.example.test", "A", "127.0.0.10", ttl=1)
    same = (b"x", ("moving.example.test", 514))    # one tuple, as logging handlers pass
    sendto = _state.translator.translate
    assert translate("moving.example.test")[0] == "127.0.0.10"
    assert sendto(socket.AF_INET, same, 1, "sendto") == ("127.0.0.10", 514)
    assert sendto(socket.AF_INET, same, 1, "sendto") == ("127.0.0.10", 514)
    server.remove("moving.example.test")
    server.add("moving.example.test", "A", "127.0.0.11", ttl=1)
    eventlet.sleep(1.05)
    assert translate("moving.example.test")[0] == "127.0.0.10"   # stale, at once
    eventlet.sleep(0.1)                                             # refreshed meanwhile
    assert translate("moving.example.test")[0] == "127.0.0.11"
    assert sendto(socket.AF_INET, same, 1, "sendto") == ("127.0.0.11", 514)
    assert server.count("moving.example.test", "A") == 2


def test_nxdomain_on_refresh_ends_the_stale_answer(patch):
    server = patch(min_ttl=0)
    server.add("gone.example.test", "A", "127.0.0.12", ttl=1)
    translate("gone.example.test")
    server.remove("gone.example.test")
    eventlet.sleep(1.05)
    assert translate("gone.example.test")[0] == "127.0.0.12"
    eventlet.sleep(0.1)
    assert eai(lambda: translate("gone.example.test")) == socket.EAI_NONAME


def test_serve_stale_off_waits_for_the_lookup(patch):
    server = patch(min_ttl=0, serve_stale=False, timeout=0.3)
    server.add("nostale.example.test", "A", "127.0.0.13", ttl=1)
    translate("nostale.example.test")
    eventlet.sleep(1.05)
    server.set_behavior("drop")
    started = time.time()
    assert eai(lambda: translate("nostale.example.test")) == socket.EAI_AGAIN
    assert time.time() - started >= 0.25
    assert greenfix.stats()["stale"] == 0


# ---------------------------------------------------------------- hot sendto
# GreenSocket.sendto serves cached names inline (hotpath.green_sendto), from
# the table of the socket's family, which it keeps on the socket with the
# socket's send loop and fd.  These tests go through real sockets, so
# they see what it sends where.

def test_hot_sendto_follows_a_refreshed_answer(patch):
    server = patch(min_ttl=0)
    old = _udp(socket.AF_INET, "127.0.0.20")
    port = old.getsockname()[1]
    new = _udp(socket.AF_INET, "127.0.0.21", port)
    sender = green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        server.add("moving.example.test", "A", "127.0.0.20", ttl=1)
        address = ("moving.example.test", port)    # one tuple, as loggers keep
        for payload in (b"miss", b"hit1", b"hit2"):
            sender.sendto(payload, address)
            assert old.recv(10) == payload
        assert greenfix.stats()["hits"] == 2
        server.remove("moving.example.test")
        server.add("moving.example.test", "A", "127.0.0.21", ttl=1)
        eventlet.sleep(1.05)
        sender.sendto(b"stale", address)            # expired: stale, refreshed meanwhile
        assert old.recv(10) == b"stale"
        eventlet.sleep(0.1)
        for payload in (b"fresh1", b"fresh2", b"fresh3"):
            sender.sendto(payload, address)
            assert new.recv(10) == payload
        assert server.count("moving.example.test", "A") == 2
    finally:
        for sock in (old, new, sender):
            sock.close()


def test_hot_sendto_expires_with_the_ttl(patch, sender, receiver):
    server = patch(min_ttl=0, serve_stale=False)
    server.add("short.example.test", "A", "127.0.0.1", ttl=1)
    address = ("short.example.test", receiver.getsockname()[1])
    for _ in range(3):
        sender.sendto(b"x", address)
    assert server.count("short.example.test", "A") == 1
    eventlet.sleep(1.05)
    sender.sendto(b"x", address)
    assert server.count("short.example.test", "A") == 2


def test_hot_sendto_after_clear_cache_asks_again(patch, sender, receiver):
    server = patch()
    address = (NAME, receiver.getsockname()[1])
    for _ in range(3):
        sender.sendto(b"x", address)
    greenfix.clear_cache()
    sender.sendto(b"x", address)
    assert server.count(NAME, "A") == 2


def test_hot_sendto_keeps_families_apart(patch, sender, receiver):
    """An IPv6 socket sending the very tuple an IPv4 socket sent to gets
    the AAAA answer, not the IPv4 one memoised for the other socket."""
    if not ipv6_loopback_available():
        pytest.skip("no IPv6 loopback")
    server = patch()
    port = receiver.getsockname()[1]
    receiver6 = _udp(socket.AF_INET6, "::1", port)
    sender6 = green_socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        address = (NAME, port)
        for payload in (b"v4-1", b"v4-2"):
            sender.sendto(payload, address)
            assert receiver.recv(10) == payload
        for payload in (b"v6-1", b"v6-2"):
            sender6.sendto(payload, address)
            assert receiver6.recv(10) == payload
        sender.sendto(b"v4-3", address)
        assert receiver.recv(10) == b"v4-3"
        assert server.count(NAME, "A") == 1 and server.count(NAME, "AAAA") == 1
    finally:
        receiver6.close()
        sender6.close()


def test_hot_sendto_memo_is_per_tuple_and_per_socket(patch, receiver):
    server = patch()
    other = _udp(socket.AF_INET, "127.0.0.1")
    to_receiver, to_other = (NAME, receiver.getsockname()[1]), (NAME, other.getsockname()[1])
    first, second = (green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                     for _ in range(2))
    try:
        for sock, address, destination in (
                (first, to_receiver, receiver), (first, to_receiver, receiver),
                (first, to_other, other), (first, to_other, other),
                (second, to_receiver, receiver), (first, to_receiver, receiver),
                (second, to_other, other)):
            sock.sendto(b"x", address)
            assert destination.recv(10) == b"x"
        assert server.count(NAME, "A") == 1
    finally:
        for sock in (first, second, other):
            sock.close()


def test_hot_sendto_memo_keeps_no_socket_alive(patch, receiver):
    """The memo holds the socket's ``fd`` and the class's send loop, nothing
    bound to the GreenSocket: a dropped socket is freed by its reference
    count, with the collector off, as an unpatched one is."""
    patch()
    address = (NAME, receiver.getsockname()[1])
    sock = green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(3):
        sock.sendto(b"x", address)
        assert receiver.recv(10) == b"x"
    assert greenfix.stats()["hits"] == 2
    ref = weakref.ref(sock)
    gc.disable()
    try:
        del sock
        assert ref() is None
    finally:
        gc.enable()


def test_hot_sendto_sends_through_the_socket_class_loop(patch, receiver):
    """A hit runs the send loop of the socket's class, as eventlet's own
    ``sendto`` (``self._send_loop``) would for a subclass overriding it."""
    patch()
    calls = []

    class Counting(green_socket.socket):
        def _send_loop(self, send_method, data, *args):
            calls.append(args)
            return super(Counting, self)._send_loop(send_method, data, *args)

    sock = Counting(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        port = receiver.getsockname()[1]
        address = (NAME, port)
        for _ in range(3):
            sock.sendto(b"x", address)
            assert receiver.recv(10) == b"x"
        assert greenfix.stats()["hits"] == 2
        assert calls == [(("127.0.0.1", port),)] * 3
    finally:
        sock.close()


def test_hot_sendto_serves_every_caller_style(patch, receiver):
    """A cached name is sent to from the hot path whatever tuple the caller
    passes: a new tuple per call (``sendto(data, (self.host, self.port))``),
    a tuple kept by a second sender after another tuple of the same name was
    resolved first (a second logging handler to the same host), on IPv4 and
    IPv6; no greenfix function but the hot ``sendto`` runs."""
    server = patch()
    port = receiver.getsockname()[1]
    host = "".join(NAME)  # another str object, equal to the one resolved
    first, second = (green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                     for _ in range(2))
    receiver6 = sender6 = None
    try:
        first.sendto(b"x", (NAME, port))    # the lookup
        second.sendto(b"x", (NAME, port))   # this socket's first call: the slow path
        kept = (host, port)

        def fresh_tuples():
            for _ in range(5):
                first.sendto(b"x", (host, port))

        def second_sender_kept_tuple():
            for _ in range(5):
                second.sendto(b"x", kept)
        for call in (fresh_tuples, second_sender_kept_tuple):
            assert greenfix_functions_run(call) == [], call.__name__
        for _ in range(12):
            assert receiver.recv(10) == b"x"
        calls = [fresh_tuples]
        if ipv6_loopback_available():
            receiver6 = _udp(socket.AF_INET6, "::1", port)
            sender6 = green_socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            sender6.sendto(b"6", (NAME, port))

            def fresh_tuples_ipv6():
                for _ in range(5):
                    sender6.sendto(b"6", (host, port))
            assert greenfix_functions_run(fresh_tuples_ipv6) == []
            for _ in range(6):
                assert receiver6.recv(10) == b"6"
        assert server.count(NAME, "A") == 1
    finally:
        for sock in (first, second, receiver6, sender6):
            if sock is not None:
                sock.close()


def test_hot_sendto_leaves_what_cpython_rejects_to_the_slow_path(patch, receiver):
    """A host of another type than ``str`` equal to a cached name, and an
    address that is not a tuple, are not served the name's answer on the
    hot path: CPython treats them differently (idna codec, TypeError)."""
    patch()
    port = receiver.getsockname()[1]
    sock = green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    class Host(str):
        pass
    try:
        sock.sendto(b"x", (NAME, port))
        assert receiver.recv(10) == b"x"
        with pytest.raises(TypeError):
            sock.sendto(b"x", [NAME, port])
        assert greenfix_functions_run(lambda: sock.sendto(b"x", (Host(NAME), port)))
        assert receiver.recv(10) == b"x"   # CPython resolves it (through greenfix)
    finally:
        sock.close()


def test_hot_sendto_on_a_closed_socket_fails_as_unpatched(patch, receiver):
    """A hit after close() raises what eventlet's own sendto raises there
    (EBADF), and sends nothing."""
    from eventlet.greenio.base import GreenSocket
    eventlets = vars(GreenSocket)["sendto"]
    patch()
    address = (NAME, receiver.getsockname()[1])  # one tuple, as loggers keep
    sock = green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(2):
        sock.sendto(b"x", address)
        assert receiver.recv(10) == b"x"
    sock.close()
    with pytest.raises(Exception) as hit:
        sock.sendto(b"x", address)
    assert greenfix.stats()["hits"] == 2  # the call after close() was a hit too
    with pytest.raises(Exception) as unpatched:
        eventlets(sock, b"x", receiver.getsockname())
    assert (type(hit.value), hit.value.args) == (type(unpatched.value), unpatched.value.args)
    receiver.settimeout(0.05)
    with pytest.raises(socket.timeout):
        receiver.recv(10)


# ---------------------------------------------------------------- bound

def test_lru_bound_and_second_chance_for_hot_hits(patch):
    server = patch(cache_size=3)
    for i in range(6):
        server.add("n%d.example.test" % i, "A", "127.0.1.%d" % i)
    for i in range(3):
        translate("n%d.example.test" % i)
    translate("n0.example.test")        # hot path hit: n0 gets a second chance
    for i in range(3, 6):
        translate("n%d.example.test" % i)
        assert greenfix.stats()["entries"] <= 3
    stats = greenfix.stats()
    assert stats["entries"] == 3 and stats["evictions"] == 3
    names = cache().hot.names(socket.AF_INET) + cache().hot.names(socket.AF_INET6)
    assert sorted(names) == ["n0.example.test", "n4.example.test", "n5.example.test"]
    translate("n0.example.test")
    assert server.count("n0.example.test", "A") == 1      # kept
    translate("n1.example.test")
    assert server.count("n1.example.test", "A") == 2      # evicted


def test_literals_bounded(patch, monkeypatch):
    patch()
    monkeypatch.setattr(hotpath, "LITERALS_MAX", 10)
    for i in range(25):
        translate("10.0.0.%d" % i)
        assert len(cache().hot.tables[socket.AF_INET]) <= 10


# ---------------------------------------------------------------- invalidation

def test_hosts_file_change_empties_the_cache(patch, hosts_file):
    patch()
    cache().check_interval = 0.05
    assert translate("files-only.test")[0] == "127.0.0.1"
    with open(hosts_file, "w") as handle:
        handle.write("127.0.0.42 files-only.test\n")
    eventlet.sleep(0.15)                # the cache timer notices
    assert translate("files-only.test")[0] == "127.0.0.42"
    assert greenfix.stats()["invalidations"] == 1


def test_resolv_conf_change_empties_the_cache(patch, resolv_conf):
    server = patch()
    cache().check_interval = 0
    translate(NAME)
    translate(NAME)
    assert server.count(NAME, "A") == 1
    with open(resolv_conf, "a") as handle:
        handle.write("options timeout:1\n")
    translate("v4only.example.test")    # a slow-path call checks the files
    translate(NAME)
    assert server.count(NAME, "A") == 2
    assert greenfix.stats()["invalidations"] == 1


# ---------------------------------------------------------------- public API

def test_stats_and_clear_cache_unpatched():
    assert not greenfix.is_patched()
    stats = greenfix.stats()
    assert stats["patched"] is False and stats["backend"] is None
    assert stats["hits"] == stats["misses"] == stats["entries"] == 0
    assert stats["latency"] == {"count": 0, "p50": None, "p90": None, "p99": None}
    assert greenfix.clear_cache() == 0


def test_stats_and_clear_cache(patch):
    server = patch()
    translate(NAME)
    translate(NAME)
    eai(lambda: translate("missing.example.test"))
    stats = greenfix.stats()
    assert stats["backend"] == "greendns"
    assert (stats["hits"], stats["misses"], stats["entries"]) == (1, 2, 2)
    assert stats["failures"] == {"EAI_NONAME": 1}
    latency = stats["latency"]
    assert latency["count"] == 2 and 0 < latency["p50"] <= latency["p90"] <= latency["p99"]
    assert greenfix.clear_cache() == 2
    assert greenfix.stats()["entries"] == 0
    translate(NAME)
    assert server.count(NAME, "A") == 2


def test_options_are_checked():
    for bad in (dict(max_ttl=7200), dict(min_ttl=10, max_ttl=5), dict(cache_size=-1),
                dict(max_stale=-1), dict(hold_down="2")):
        with pytest.raises(greenfix.GreenfixError):
            greenfix.patch(nameservers=["127.0.0.1:9"], **bad)
        assert not greenfix.is_patched()


# ---------------------------------------------------------------- threads

def test_native_threads_and_green_threads_share_the_cache(patch):
    server = patch()
    for i in range(20):
        server.add("t%d.example.test" % i, "A", "127.0.2.%d" % i)
    sock = green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    translate(NAME)                     # cached before the threads start
    errors = []
    done = []

    def work(index):
        try:
            for _ in range(30):
                for host in (NAME, "t%d.example.test" % index, "t19.example.test"):
                    sock.sendto(b"x", (host, 9))
                    expected = "127.0.0.1" if host == NAME else \
                        "127.0.2.%d" % int(host.split(".")[0][1:])
                    assert translate(host)[0] == expected
            done.append(index)
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [native_threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    greens = [eventlet.spawn(work, 8 + i) for i in range(8)]
    for green in greens:
        green.wait()
    deadline = time.time() + 20
    while any(thread.is_alive() for thread in threads) and time.time() < deadline:
        eventlet.sleep(0.01)
    assert not any(thread.is_alive() for thread in threads), "deadlock"
    assert not errors, errors
    assert sorted(done) == list(range(16))
    # Each native thread may resolve a name on its own; green threads share.
    assert server.count(NAME, "A") == 1
    assert 1 <= server.count("t19.example.test", "A") <= 9
    for i in range(16):
        assert server.count("t%d.example.test" % i, "A") == 1
    stats = greenfix.stats()
    assert stats["entries"] == 18 and stats["in_flight"] == 0
    assert len(cache()._store) == 18
    sock.close()


def test_tpool_worker_resolves_and_uses_the_cache(patch):
    server = patch()
    sock = green_socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def in_worker():
        sock.sendto(b"x", (NAME, 9))
        return translate(NAME)
    assert tpool.execute(in_worker) == ("127.0.0.1", 9)
    assert translate(NAME) == ("127.0.0.1", 9)
    assert server.count(NAME, "A") == 1
    sock.close()


def test_stale_answer_in_a_native_thread(patch):
    server = patch(min_ttl=0, timeout=0.2)
    server.add("threaded.example.test", "A", "127.0.0.20", ttl=1)
    translate("threaded.example.test")
    eventlet.sleep(1.05)
    server.remove("threaded.example.test")
    server.add("threaded.example.test", "A", "127.0.0.21", ttl=60)
    result = []
    thread = native_threading.Thread(
        target=lambda: result.append(translate("threaded.example.test")[0]))
    thread.start()
    while thread.is_alive():
        eventlet.sleep(0.01)
    assert result == ["127.0.0.20"]      # stale, at once; the home hub refreshes
    deadline = time.time() + 3
    while time.time() < deadline and \
            server.count("threaded.example.test", "A") < 2:
        eventlet.sleep(0.05)
    eventlet.sleep(0.05)
    assert translate("threaded.example.test")[0] == "127.0.0.21"
