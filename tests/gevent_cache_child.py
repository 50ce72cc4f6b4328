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

import json  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
import gevent.pool  # noqa: E402

import greenfix  # noqa: E402
from dnsserver import DNSServer  # noqa: E402
from heartbeat import Heartbeat, clock  # noqa: E402

NAME = "svc.example.test"


def serve(port=0):
    server = DNSServer(port=port).start()
    server.add(NAME, "A", "127.0.0.1")
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
