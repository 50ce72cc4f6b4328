"""Hot path: ``sendto`` to a cached name vs to the IP literal (patched), and
to the IP literal patched vs unpatched.

Targets: cached name <= 1.10x literal; literal patched <= 1.03x unpatched.
"""

from __future__ import absolute_import, division, print_function

import socket

import greenfix

from benchmarks import common

NAME = "svc.example.test"
ADDRESS = "127.0.0.1"
CACHED_TARGET = 1.10
PATCHED_TARGET = 1.03


def _drain(sock):
    sock.setblocking(False)
    try:
        while True:
            sock.recv(64)
    except socket.error:
        pass


def run(calls=200, rounds=501):
    from eventlet.greenio.base import GreenSocket

    server = common.dns_server([(NAME, "A", ADDRESS, 60)])
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind((ADDRESS, 0))
    port = receiver.getsockname()[1]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    literal, named = (ADDRESS, port), (NAME, port)
    eventlets = vars(GreenSocket)["sendto"]
    greenfix.patch(**common.patch_options(server))
    greenfix.clear_cache()  # counters from here on
    greenfixs = vars(GreenSocket)["sendto"]
    variants = {"unpatched": (eventlets, literal), "literal": (greenfixs, literal),
                "cached": (greenfixs, named)}
    samples = dict((key, []) for key in variants)
    try:
        sender.sendto(b"x", named)  # warm the cache (one A query)
        _drain(receiver)
        for index in range(rounds):
            # Every variant once per round, in a rotating order.
            order = sorted(variants)
            order = order[index % 3:] + order[:index % 3]
            for key in order:
                method, address = variants[key]
                GreenSocket.sendto = method
                samples[key].append(
                    common.time_sendto(sender, b"x", address, calls) / calls)
                _drain(receiver)
        GreenSocket.sendto = greenfixs
        queries = server.count(NAME)
        stats = greenfix.stats()
    finally:
        GreenSocket.sendto = greenfixs  # unpatch() restores only what is its own
        greenfix.unpatch()
        server.stop()
        receiver.close()
        sender.close()

    best = dict((key, min(values)) for key, values in samples.items())
    paired = dict((key, common.median([a / b for a, b in zip(samples[key], samples[base])]))
                  for key, base in (("cached", "literal"), ("literal", "unpatched")))
    table = common.Table(
        "hot path: sendto cost",
        """
        UDP sendto of 1 byte to a loopback receiver through eventlet's GreenSocket,
        in one process with greenfix patched once: %d rounds, each timing %d calls
        of three variants in rotating order: "unpatched" (GreenSocket.sendto set
        back to eventlet's own function for the round, the only code that differs)
        and greenfix's sendto to the literal and to the cached name (TTL 60, cache
        warmed once); the receiver is drained after every batch, so every
        datagram is delivered.  Per-call time = min over rounds (median in
        brackets); ratios of the minima, then the median of per-round ratios.
        """ % (rounds, calls))
    for key, label in (("unpatched", "literal, unpatched"), ("literal", "literal, patched"),
                       ("cached", "cached name, patched")):
        table.add("sendto %s (us/call)" % label,
                  "%.3f  [%.3f]" % (best[key] * 1e6, common.median(samples[key]) * 1e6))
    cached_ratio = best["cached"] / best["literal"]
    patched_ratio = best["literal"] / best["unpatched"]
    table.add("cached name / literal (patched)", "%.3fx" % cached_ratio,
              "<= %.2fx" % CACHED_TARGET, cached_ratio <= CACHED_TARGET)
    table.add("literal patched / unpatched", "%.3fx" % patched_ratio,
              "<= %.2fx" % PATCHED_TARGET, patched_ratio <= PATCHED_TARGET)
    table.add("cached name (patched) / literal (unpatched), for comparison",
              "%.3fx" % (best["cached"] / best["unpatched"]))
    table.add("median per-round ratios (cached/literal, patched/unpatched)",
              "%.3fx, %.3fx" % (paired["cached"], paired["literal"]))
    table.add("DNS queries for %s over the run (TTL 60)" % NAME, queries, "== 1", queries == 1)
    # The warm-up call is the one miss; every timed call to the name a hit.
    table.add("cache hits counted", stats["hits"],
              "== %d" % (rounds * calls), stats["hits"] == rounds * calls)
    return table


if __name__ == "__main__":
    import eventlet
    eventlet.monkey_patch()
    print(run().render())
