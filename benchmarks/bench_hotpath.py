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


def run(calls=1000, rounds=101):
    server = common.dns_server([(NAME, "A", ADDRESS, 60)])
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind((ADDRESS, 0))
    port = receiver.getsockname()[1]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    literal, named = (ADDRESS, port), (NAME, port)
    samples = {"unpatched": [], "literal": [], "cached": []}
    try:
        for _ in range(rounds):
            # Unpatched, then patched (cache warmed by one untimed call);
            # the order of the two patched variants alternates.
            greenfix.unpatch()
            samples["unpatched"].append(
                common.time_loop(sender.sendto, (b"x", literal), calls) / calls)
            _drain(receiver)
            greenfix.patch(**common.patch_options(server))
            sender.sendto(b"x", named)
            sender.sendto(b"x", literal)
            order = ("literal", "cached") if len(samples["literal"]) % 2 else ("cached", "literal")
            for variant in order:
                address = literal if variant == "literal" else named
                samples[variant].append(
                    common.time_loop(sender.sendto, (b"x", address), calls) / calls)
                _drain(receiver)
        queries = server.count(NAME)
        stats = greenfix.stats()
    finally:
        greenfix.unpatch()
        server.stop()
        receiver.close()
        sender.close()

    best = dict((key, min(values)) for key, values in samples.items())
    mid = dict((key, common.median(values)) for key, values in samples.items())
    table = common.Table(
        "hot path: sendto cost",
        """
        UDP sendto of 1 byte to a loopback receiver through eventlet's GreenSocket,
        in one process: %d rounds, each timing %d calls unpatched, then after
        greenfix.patch() %d calls to the literal and %d to the cached name (order
        alternating, cache warmed by one untimed call), then unpatch().  Per-call time = min over
        rounds (median in brackets); ratios of the minima.
        """ % (rounds, calls, calls, calls))
    for key, label in (("unpatched", "literal, unpatched"), ("literal", "literal, patched"),
                       ("cached", "cached name, patched")):
        table.add("sendto %s (us/call)" % label,
                  "%.3f  [%.3f]" % (best[key] * 1e6, mid[key] * 1e6))
    cached_ratio = best["cached"] / best["literal"]
    patched_ratio = best["literal"] / best["unpatched"]
    table.add("cached name / literal (patched)", "%.3fx" % cached_ratio,
              "<= %.2fx" % CACHED_TARGET, cached_ratio <= CACHED_TARGET)
    table.add("literal patched / unpatched", "%.3fx" % patched_ratio,
              "<= %.2fx" % PATCHED_TARGET, patched_ratio <= PATCHED_TARGET)
    table.add("median ratios (cached/literal, patched/unpatched)",
              "%.3fx, %.3fx" % (mid["cached"] / mid["literal"],
                                mid["literal"] / mid["unpatched"]))
    table.add("DNS queries for %s over %d rounds (one per patch())" % (NAME, rounds),
              queries, "== %d" % rounds, queries == rounds)
    table.add("hits counted in the last round", stats["hits"])
    return table


if __name__ == "__main__":
    import eventlet
    eventlet.monkey_patch()
    print(run().render())
