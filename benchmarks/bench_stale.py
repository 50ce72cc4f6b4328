"""Serve-stale with DNS black-holed: after the TTL expires and every query
is dropped, ``sendto`` returns at once (hub gap < 5 ms), the datagram reaches
the last known address, and after ``max_stale`` the call fails with the
gaierror libc gives (EAI_AGAIN)."""

from __future__ import absolute_import, division, print_function

import socket

import eventlet
import greenfix

from benchmarks import common

NAME = "logs.example.test"
LAST_KNOWN = "127.0.0.7"     # the receiver listens here, and only here
TTL = 1
MAX_STALE = 1.0
TIMEOUT = 0.25
GAP_TARGET = 0.005
EAI_AGAIN = socket.EAI_AGAIN


class Heartbeat(object):
    """A green thread that wants to run every millisecond; ``gap(a, b)`` is
    the longest time it could not run between a and b."""

    def __init__(self):
        self.ticks = []
        self.running = True
        self.thread = eventlet.spawn(self._beat)
        eventlet.sleep(0.02)

    def _beat(self):
        while self.running:
            self.ticks.append(common.timer())
            eventlet.sleep(0.001)

    def gap(self, start, end):
        inside = [t for t in self.ticks if start <= t <= end]
        after = [t for t in self.ticks if t > end][:1]
        points = [start] + inside + after
        return max(b - a for a, b in zip(points, points[1:]))

    def stop(self):
        self.running = False
        self.thread.wait()


def _timed(heart, call):
    start = common.timer()
    try:
        outcome = ("ok", call())
    except socket.gaierror as exc:
        outcome = ("gaierror", exc.errno)
    end = common.timer()
    eventlet.sleep(0.01)     # let the heartbeat tick once after the call
    return outcome, end - start, heart.gap(start, end)


def run():
    server = common.dns_server([(NAME, "A", LAST_KNOWN, TTL)])
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind((LAST_KNOWN, 0))
    receiver.settimeout(1)
    port = receiver.getsockname()[1]
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = (NAME, port)
    heart = None
    try:
        greenfix.patch(**common.patch_options(server, min_ttl=0, max_stale=MAX_STALE,
                                              timeout=TIMEOUT, attempts=1, hold_down=0.5))
        sender.sendto(b"warm", address)
        receiver.recv(16)
        resolved = common.timer()
        eventlet.sleep(TTL + 0.05)
        server.set_behavior("drop")
        queries_before = server.count(NAME)
        heart = Heartbeat()
        stale, stale_took, stale_gap = _timed(heart, lambda: sender.sendto(b"stale", address))
        try:
            arrived = receiver.recv(16) == b"stale"
        except socket.timeout:
            arrived = False
        # Keep sending while refreshes fail, until past max_stale.
        worst_took, worst_gap, sent = 0.0, 0.0, 0
        while common.timer() < resolved + TTL + MAX_STALE - 0.1:
            outcome, took, gap = _timed(heart, lambda: sender.sendto(b"more", address))
            worst_took, worst_gap = max(worst_took, took), max(worst_gap, gap)
            sent += outcome[0] == "ok"
            eventlet.sleep(0.05)
        eventlet.sleep(max(0, resolved + TTL + MAX_STALE + 0.05 - common.timer()))
        late, late_took, late_gap = _timed(heart, lambda: sender.sendto(b"late", address))
        stats = greenfix.stats()
        queries = server.count(NAME) - queries_before
    finally:
        if heart is not None:
            heart.stop()
        greenfix.unpatch()
        server.stop()
        receiver.close()
        sender.close()

    table = common.Table(
        "serve-stale: DNS black-holed after the TTL expired",
        """
        One process: record %s A %s TTL %ds at a tests/dnsserver.py
        server; patch(min_ttl=0, max_stale=%.1f, timeout=%.2f, attempts=1,
        hold_down=0.5); one sendto resolves; after the TTL the server drops every
        query; a green heartbeat sleeps 1 ms in a loop and the hub gap is the
        longest time between its ticks around a call.  The receiver listens only
        on %s (the last known address).
        """ % (NAME, LAST_KNOWN, TTL, MAX_STALE, TIMEOUT, LAST_KNOWN))
    table.add("first stale sendto: outcome", "%s" % (stale,), "ok", stale[0] == "ok")
    table.add("first stale sendto: duration", "%.2f ms" % (stale_took * 1e3),
              "< %.0f ms" % (GAP_TARGET * 1e3), stale_took < GAP_TARGET)
    table.add("first stale sendto: hub gap", "%.2f ms" % (stale_gap * 1e3),
              "< %.0f ms" % (GAP_TARGET * 1e3), stale_gap < GAP_TARGET)
    table.add("datagram reached %s" % LAST_KNOWN, arrived, "True", arrived)
    table.add("later stale sendto while refreshes fail: %d sent, worst duration" % sent,
              "%.2f ms" % (worst_took * 1e3), "< %.0f ms" % (GAP_TARGET * 1e3),
              sent > 0 and worst_took < GAP_TARGET)
    table.add("  ... worst hub gap", "%.2f ms" % (worst_gap * 1e3),
              "< %.0f ms" % (GAP_TARGET * 1e3), worst_gap < GAP_TARGET)
    table.add("after max_stale: outcome", "%s" % (late,), "('gaierror', %d)" % EAI_AGAIN,
              late == ("gaierror", EAI_AGAIN))
    table.add("after max_stale: duration (waits for one lookup or the hold-down)",
              "%.1f ms" % (late_took * 1e3))
    table.add("after max_stale: hub gap", "%.2f ms" % (late_gap * 1e3),
              "< %.0f ms" % (GAP_TARGET * 1e3), late_gap < GAP_TARGET)
    table.add("queries while black-holed (refreshes + final lookup)", queries)
    table.add("stale answers served / refreshes started",
              "%d / %d" % (stats["stale"], stats["refreshes"]))
    return table


if __name__ == "__main__":
    eventlet.monkey_patch()
    print(run().render())
