"""The answer cache under gevent, scene by scene, in one gevent process.

Run as ``python gevent_cache_child.py SCENE...`` (by
``tests/test_gevent_cache.py``); prints one JSON line per scene.  Each scene
patches greenfix afresh against its own ``tests/dnsserver.py`` server
(``resolver="greendns"``, ``nameservers=``), except the ``system_*`` scenes,
which run in the namespace harness, where gevent's own resolver reads a
resolv.conf that names the server on 127.0.0.1:53.
"""

from __future__ import print_function

from gevent import monkey

monkey.patch_all()

import errno  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
import gevent.pool  # noqa: E402
from gevent._socketcommon import SocketMixin  # noqa: E402

import greenfix  # noqa: E402
from dnsserver import DNSServer, ipv6_loopback_available  # noqa: E402
from heartbeat import Heartbeat, clock  # noqa: E402
from profiled import greenfix_functions_run  # noqa: E402

NAME = "svc.example.test"


def serve(port=0):
    server = DNSServer(port=port).start()
    server.add(NAME, "A", "127.0.0.1")
    server.add(NAME, "AAAA", "::1")
    server.add("short.example.test", "A", "127.0.0.3", ttl=1)
    server.add("brief.example.test", "A", "127.0.0.1", ttl=1)
    server.add_soa("example.test", minimum=30)
    return server


def patched(server, **options):
    settings = dict(resolver="greendns", nameservers=["127.0.0.1:%d" % server.port],
                    timeout=1, attempts=1)
    settings.update(options)
    assert greenfix.patch(**settings)


def udp_receiver():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    return sock


def scene_sendto_10000(server):
    patched(server)
    receiver, sender = udp_receiver(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = (NAME, receiver.getsockname()[1])
    for _ in range(10000):
        sender.sendto(b"x", address)
    stats = greenfix.stats()
    return {"queries": server.count(NAME, "A"), "received": receiver.recv(10) == b"x",
            "misses": stats["misses"], "hits": stats["hits"]}


def scene_single_flight(server):
    patched(server)
    server.set_behavior("delay", name=NAME, seconds=0.2)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = []
    pool = gevent.pool.Pool(1000)
    for _ in range(1000):
        pool.spawn(lambda: sent.append(sock.sendto(b"x", (NAME, 9))))
    pool.join()
    stats = greenfix.stats()
    return {"sent": len(sent), "queries": server.count(NAME, "A"), "joins": stats["joins"]}


def scene_killed_leader(server):
    patched(server)
    server.set_behavior("delay", name=NAME, seconds=0.2)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    leader = gevent.spawn(sock.sendto, b"x", (NAME, 9))
    gevent.sleep(0.02)
    follower = gevent.spawn(sock.sendto, b"x", (NAME, 9))
    gevent.sleep(0.02)
    leader.kill()
    return {"follower": follower.get(timeout=5), "queries": server.count(NAME, "A"),
            "in_flight": greenfix.stats()["in_flight"]}


def scene_ttl(server):
    patched(server, min_ttl=0, serve_stale=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(2):
        sock.sendto(b"x", ("short.example.test", 9))
    before = server.count("short.example.test", "A")
    gevent.sleep(1.05)
    sock.sendto(b"x", ("short.example.test", 9))
    return {"before": before, "after": server.count("short.example.test", "A")}


def scene_negative(server):
    patched(server)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    errors = []
    for _ in range(3):
        try:
            sock.sendto(b"x", ("missing.example.test", 9))
        except socket.gaierror as exc:
            errors.append(exc.errno)
    return {"errors": errors, "queries": server.count("missing.example.test", "A"),
            "negative_hits": greenfix.stats()["negative_hits"]}


def scene_stale(server):
    patched(server, min_ttl=0)
    receiver, sender = udp_receiver(), socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = ("brief.example.test", receiver.getsockname()[1])
    sender.sendto(b"1", address)
    gevent.sleep(1.05)
    server.set_behavior("drop")
    start = clock()
    with Heartbeat() as beat:
        sender.sendto(b"2", address)
    took = clock() - start
    received = [receiver.recv(10), receiver.recv(10)]
    gevent.sleep(1.2)    # the background refresh times out meanwhile
    return {"took": took, "net_gap": beat.net_gap, "received": [r.decode() for r in received],
            "stale": greenfix.stats()["stale"]}


def scene_nonblocking_connects(server):
    patched(server)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    results = []
    for _ in range(50):
        sock = socket.socket()
        sock.setblocking(False)
        results.append(sock.connect_ex((NAME, listener.getsockname()[1])))
        sock.close()
    return {"results": sorted(set(results)), "queries": server.count(NAME, "A")}


def scene_clear_cache(server):
    patched(server)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"x", (NAME, 9))
    cleared = greenfix.clear_cache()
    sock.sendto(b"x", (NAME, 9))
    return {"cleared": cleared, "queries": server.count(NAME, "A")}


def scene_system_connects(server):
    """gevent's own lookups (create_connection; connect on a blocking
    socket: gevent's getaddrinfo), 50 times each, then again after the TTL
    ran out while DNS is dark."""
    assert greenfix.patch(min_ttl=0, default_ttl=1)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    address = ("brief.example.test", listener.getsockname()[1])

    def connect_both():
        socket.create_connection(address, 5).close()
        sock = socket.socket()
        sock.settimeout(5)
        sock.connect(address)
        sock.close()
    for _ in range(50):
        connect_both()
    queries = server.count("brief.example.test")
    gevent.sleep(1.1)
    server.set_behavior("drop")
    with Heartbeat() as beat:
        connect_both()
    return {"queries": queries, "dark_connect_gap": beat.net_gap,
            "stale": greenfix.stats()["lookups"]["stale"]}


# ---------------------------------------------------------------- hot sendto
# gevent's socket.sendto serves literals and cached names inline
# (greenfix.hotpath.gevent_sendto); everything else goes to the slow path.

LITERALS = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
#: gevent's own sendto, as gevent defines it (what greenfix wraps)
GEVENT_SENDTO = vars(SocketMixin)["sendto"]


def caller_styles(senders, host, port, calls):
    """Per caller style, a function making ``calls`` sendto to (host, port)
    as bench_hotpath's callers do: one tuple kept; a new tuple per call
    (from another str object equal to ``host``); several senders, each
    keeping a tuple of its own."""
    kept, copy = (host, port), "".join(host)

    def several():
        for index in range(calls):
            sock, address = pairs[index % len(pairs)]
            sock.sendto(b"x", address)
    pairs = [(sock, (host, port)) for sock in senders]
    return {"kept": lambda: [senders[0].sendto(b"x", kept) for _ in range(calls)],
            "fresh": lambda: [senders[0].sendto(b"x", (copy, port)) for _ in range(calls)],
            "several": several}


def received(receiver, count):
    """How many datagrams ``receiver`` holds, reading up to ``count + 1``."""
    got = 0
    receiver.settimeout(0.2)
    try:
        for _ in range(count + 1):
            receiver.recv(10)
            got += 1
    except socket.timeout:
        pass
    return got


def scene_hot_styles(server):
    """Per family, host (the name, the literal) and caller style: the
    greenfix functions the calls ran besides the hot sendto, the datagrams
    that reached the receiver on that host, the cache hits counted."""
    patched(server)
    families = [socket.AF_INET] + ([socket.AF_INET6] if ipv6_loopback_available() else [])
    report, calls = {}, 20
    for family in families:
        receiver = socket.socket(family, socket.SOCK_DGRAM)
        receiver.bind((LITERALS[family], 0))
        port = receiver.getsockname()[1]
        senders = [socket.socket(family, socket.SOCK_DGRAM) for _ in range(4)]
        for host in (NAME, LITERALS[family]):
            for sock in senders:   # the lookup, each socket's first call
                sock.sendto(b"x", (host, port))
            received(receiver, len(senders))
            for style, call in sorted(caller_styles(senders, host, port, calls).items()):
                hits = greenfix.stats()["hits"]
                ran = greenfix_functions_run(call)
                key = "%s %s %s" % (family, "name" if host == NAME else "literal", style)
                report[key] = {"ran": ran, "received": received(receiver, calls),
                               "hits": greenfix.stats()["hits"] - hits}
        for sock in senders + [receiver]:
            sock.close()
    return {"calls": calls, "families": families, "styles": report,
            "queries": server.count(NAME)}


class Host(str):
    """A str subclass: CPython runs it through the "idna" codec."""


def outcome(call):
    try:
        return ["returned", call()]
    except Exception as exc:  # the type and text the caller sees
        return ["raised", type(exc).__name__, str(exc)]


def unusual_calls(port):
    """(label, args, kwargs, the same call with the name answered at once)."""
    name, literal = (NAME, port), ("127.0.0.1", port)
    return [
        ("flags", (b"x", 0, name), {}, (b"x", 0, literal)),
        ("list address", (b"x", [NAME, port]), {}, (b"x", ["127.0.0.1", port])),
        ("str subclass", (b"x", (Host(NAME), port)), {}, (b"x", literal)),
        ("bytes host", (b"x", (NAME.encode("ascii"), port)), {}, (b"x", literal)),
        ("unhashable host", (b"x", ([NAME], port)), {}, (b"x", ([NAME], port))),
        ("keyword address", (b"x",), {"address": name}, (b"x",)),
        ("one argument", (b"x",), {}, (b"x",)),
        ("four arguments", (b"x", 0, name, None), {}, (b"x", 0, literal, None)),
        ("bad data, name", (None, name), {}, (None, literal)),
        ("bad data, literal", (None, literal), {}, (None, literal)),
        ("port out of range", (b"x", (NAME, 70000)), {}, (b"x", ("127.0.0.1", 70000))),
        ("three-tuple", (b"x", (NAME, port, 0)), {}, (b"x", ("127.0.0.1", port, 0))),
        ("one-tuple", (b"x", (NAME,)), {}, (b"x", ("127.0.0.1",))),
    ]


def hot_table_filled(server):
    """Patch; a receiver, its port and a socket that sent to it by the name
    and by the literal (both in the hot table now)."""
    patched(server)
    receiver = udp_receiver()
    port = receiver.getsockname()[1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for host in (NAME, "127.0.0.1"):
        sock.sendto(b"x", (host, port))
    return receiver, port, sock


def scene_hot_unusual(server):
    """Each unusual call through greenfix, after the name and the literal
    are in the hot table, and through gevent's own sendto with the name
    answered at once: the outcomes, and the greenfix functions that ran."""
    _, port, sock = hot_table_filled(server)
    report = {}
    for label, args, kwargs, answered in unusual_calls(port):
        kwargs_answered = dict((key, ("127.0.0.1", port)) for key in kwargs)
        result = {}
        result["ran"] = greenfix_functions_run(
            lambda: result.setdefault("greenfix", outcome(lambda: sock.sendto(*args, **kwargs))))
        result["gevent"] = outcome(lambda: GEVENT_SENDTO(sock, *answered, **kwargs_answered))
        report[label] = result
    sock.close()
    closed = [outcome(lambda: sock.sendto(b"x", (host, port))) for host in (NAME, "127.0.0.1")]
    return {"calls": report, "closed": closed,
            "closed_gevent": outcome(lambda: GEVENT_SENDTO(sock, b"x", ("127.0.0.1", port)))}


class FlakySocket(object):
    """Stands in for a gevent socket's C socket (``_sock``): its sendto
    raises ``errors`` first, then sends; it records every address."""

    def __init__(self, real, errors):
        self.real, self.errors, self.addresses = real, list(errors), []
        self.family = real.family

    def sendto(self, *args):
        self.addresses.append(args[-1])
        if self.errors:
            raise socket.error(self.errors.pop(0), "injected")
        return self.real.sendto(*args)

    def __getattr__(self, name):
        return getattr(self.real, name)


def flaky_send(send, timeout, errors, host, port):
    """``send(sock, b"x", (host, port))`` on a socket with ``timeout``
    whose C sendto fails with ``errors`` first: the outcome and the
    addresses the C sendto was given."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(timeout)
    real, flaky = sock._sock, FlakySocket(sock._sock, errors)
    sock._sock = flaky
    try:
        result = outcome(lambda: send(sock, b"x", (host, port)))
    finally:
        sock._sock = real
        sock.close()
    return {"outcome": result, "addresses": [list(address) for address in flaky.addresses]}


def scene_hot_would_block(server):
    """A hot sendto whose first try fails: EWOULDBLOCK on a socket with a
    timeout (gevent waits and tries again), on a non-blocking one (gevent
    raises), another error (gevent raises); through greenfix to the name and
    to the literal, and through gevent's own sendto to the literal."""
    receiver, port, warm = hot_table_filled(server)
    report = {}
    for label, timeout, errors in (("would block, timeout", 5.0, [errno.EWOULDBLOCK]),
                                   ("would block, blocking", None, [errno.EWOULDBLOCK]),
                                   ("would block, non-blocking", 0.0, [errno.EWOULDBLOCK]),
                                   ("refused", 5.0, [errno.ECONNREFUSED])):
        report[label] = {
            "name": flaky_send(lambda sock, *args: sock.sendto(*args), timeout, errors, NAME, port),
            "literal": flaky_send(lambda sock, *args: sock.sendto(*args), timeout, errors,
                                  "127.0.0.1", port),
            "gevent": flaky_send(GEVENT_SENDTO, timeout, errors, "127.0.0.1", port)}
    warm.close()
    return {"cases": report, "received": received(receiver, 20)}


def main(scenes):
    for name in scenes:
        server = serve(53 if name.startswith("system_") else 0)
        try:
            result = globals()["scene_" + name](server)
        finally:
            greenfix.unpatch()
            server.stop()
        result["scene"] = name
        print(json.dumps(result))
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
