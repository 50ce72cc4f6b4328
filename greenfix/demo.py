"""The demo: one UDP log record sent to a host name, with and without
greenfix, while a green heartbeat measures how long the hub stands still.

Each case runs in a fresh interpreter (``python -m greenfix demo --case
JSON``), next to a tiny DNS responder on loopback that answers or drops
every query.  Without greenfix the lookup happens in libc, which reads
/etc/resolv.conf: that case runs in private mount and network namespaces
(``unshare -m -n``, root only) where a bind-mounted resolv.conf names the
responder, so no packet leaves the machine.  With greenfix, patch() is simply
pointed at the responder.
"""

from __future__ import absolute_import, print_function

import json
import os
import subprocess
import sys
import tempfile
import time

NAME = "logs.example.test"
TIMEOUT = 1  # resolver budget of the demo: one try of one second

CASES = [
    # (label, greenfix, dns)
    ("without greenfix, DNS lost", False, "drop"),
    ("greenfix.patch(), DNS lost", True, "drop"),
    ("without greenfix, DNS answers", False, "answer"),
    ("greenfix.patch(), DNS answers", True, "answer"),
]


def run_case(case):
    """Body of one case, in its own interpreter; prints a JSON result."""
    import eventlet
    eventlet.monkey_patch()
    import socket
    from eventlet import patcher

    clock = getattr(time, "monotonic", time.time)
    responder = _Responder(case["dns"], 53 if case["netns"] else 0)
    if case["greenfix"]:
        import greenfix
        greenfix.patch(**({} if case["netns"] else {
            "nameservers": ["127.0.0.1:%d" % responder.port],
            "timeout": TIMEOUT, "attempts": 1}))

    receiver = patcher.original("socket").socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ticks = []
    state = {"running": True}

    def heartbeat():
        while state["running"]:
            ticks.append(clock())
            eventlet.sleep(0.001)

    beater = eventlet.spawn(heartbeat)
    eventlet.sleep(0.05)
    start = clock()
    try:
        sock.sendto(b"<14>hello from the demo", (NAME, receiver.getsockname()[1]))
        outcome = "sent"
    except socket.error as exc:
        outcome = "%s%r" % (type(exc).__name__, exc.args)
    end = clock()
    eventlet.sleep(0.005)
    state["running"] = False
    beater.wait()
    points = [start] + [t for t in ticks if t > start]
    gap = max(b - a for a, b in zip(points, points[1:]))
    try:
        delivered = bool(receiver.recvfrom(100)[0])
    except socket.timeout:
        delivered = False
    print(json.dumps({"gap": gap, "took": end - start, "outcome": outcome,
                      "delivered": delivered}))


class _Responder(object):
    """A DNS responder in a native thread: answers A queries for NAME with
    127.0.0.1, or drops every query.  Built on dnspython's message API."""

    def __init__(self, mode, port):
        import dns.message
        import dns.rrset
        from eventlet import patcher
        raw = patcher.original("socket")
        self._sock = raw.socket(raw.AF_INET, raw.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]

        def serve():
            while True:
                wire, peer = self._sock.recvfrom(4096)
                if mode == "drop":
                    continue
                query = dns.message.from_wire(wire)
                reply = dns.message.make_response(query)
                question = query.question[0]
                if question.rdtype == 1:  # A
                    reply.answer.append(dns.rrset.from_text(
                        question.name, 60, "IN", "A", "127.0.0.1"))
                self._sock.sendto(reply.to_wire(), peer)

        thread = patcher.original("threading").Thread(target=serve)
        thread.daemon = True
        thread.start()


def _netns_available():
    return os.geteuid() == 0 and subprocess.call(
        ["unshare", "-m", "-n", "true"], stderr=open(os.devnull, "w")) == 0


def _spawn(case):
    argv = [sys.executable, "-W", "ignore", "-m", "greenfix", "demo", "--case", json.dumps(case)]
    if case["netns"]:
        conf = tempfile.NamedTemporaryFile("w", suffix=".resolv.conf", delete=False)
        conf.write("nameserver 127.0.0.1\noptions timeout:%d attempts:1\n" % TIMEOUT)
        conf.close()
        script = ("ip link set lo up && mount --bind %s /etc/resolv.conf && exec \"$@\""
                  % conf.name)
        argv = ["unshare", "-m", "-n", "sh", "-c", script, "sh"] + argv
    try:
        out = subprocess.check_output(argv)
    finally:
        if case["netns"]:
            os.unlink(conf.name)
    return json.loads(out.decode("utf-8").strip().splitlines()[-1])


def main():
    """Run every case and print the table; returns the exit status."""
    netns = _netns_available()
    print("greenfix demo: sendto(record, (%r, port)) under a 1 ms green heartbeat" % NAME)
    print("resolver budget: 1 try x %d s; DNS on loopback only\n" % TIMEOUT)
    row = "%-32s %16s %10s %10s  %s"
    print(row % ("case", "hub frozen for", "call took", "delivered", "outcome"))
    ok = True
    for label, patched, dns in CASES:
        if not patched and not netns:
            print(row % (label, "-", "-", "-",
                         "skipped: needs root for a private network namespace"))
            continue
        result = _spawn({"greenfix": patched, "dns": dns, "netns": not patched})
        print(row % (label, "%.0f ms" % (result["gap"] * 1000), "%.2f s" % result["took"],
                     "yes" if result["delivered"] else "no", result["outcome"]))
        if patched:
            ok = ok and result["gap"] < 0.05 and result["delivered"] == (dns == "answer")
    print("\nWithout greenfix the whole process stops while libc waits for DNS;"
          "\nwith greenfix.patch() other green threads keep running.")
    return 0 if ok else 1
