"""10,000 ``sendto`` to a name served with TTL 60: how many queries reach
the DNS server (target: exactly 1 A query)."""

from __future__ import absolute_import, division, print_function

import socket

import greenfix

from benchmarks import common

NAME = "svc.example.test"
CALLS = 10000


def run(calls=CALLS):
    server = common.dns_server([(NAME, "A", "127.0.0.1", 60), (NAME, "AAAA", "::1", 60)])
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = (NAME, receiver.getsockname()[1])
    try:
        greenfix.patch(**common.patch_options(server))
        elapsed = common.time_sendto(sender, b"x", address, calls)
        stats = greenfix.stats()
        a_queries, aaaa_queries = server.count(NAME, "A"), server.count(NAME, "AAAA")
    finally:
        greenfix.unpatch()
        server.stop()
        receiver.close()
        sender.close()
    table = common.Table(
        "queries: %d sendto to a name with TTL 60" % calls,
        """
        greenfix patched, nameservers = a tests/dnsserver.py server on 127.0.0.1;
        %d x sock.sendto(b"x", ("%s", port)) on an AF_INET green UDP socket to a
        loopback receiver; queries counted by the server's query log.
        """ % (calls, NAME))
    table.add("A queries at the server", a_queries, "== 1", a_queries == 1)
    table.add("AAAA queries at the server", aaaa_queries, "== 0", aaaa_queries == 0)
    table.add("cache hits / misses", "%d / %d" % (stats["hits"], stats["misses"]),
              "%d / 1" % (calls - 1), stats["hits"] == calls - 1 and stats["misses"] == 1)
    table.add("mean time per sendto (first one resolves)",
              "%.2f us" % (elapsed / calls * 1e6))
    return table


if __name__ == "__main__":
    import eventlet
    eventlet.monkey_patch()
    print(run().render())
