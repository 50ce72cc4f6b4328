"""Module-level lookups after greenfix.patch(): libc's answers and libc's
time budget, without freezing the hub (compared with libc in the namespace).
"""


import pytest

import netns

CHILD = r'''
import json, sys
import eventlet
eventlet.monkey_patch()
import logging.handlers, socket
from eventlet import patcher
from dnsserver import DNSServer
from heartbeat import Heartbeat, clock
import netns

libc = patcher.original("socket")
server = DNSServer(port=53).start()
server.add("both.example.test", "A", "127.0.0.1")
server.add("both.example.test", "AAAA", "::1")
server.add("v4.example.test", "A", "127.0.0.3")
server.add("v4.example.test", "A", "127.0.0.4")
server.add("alias.example.test", "CNAME", "both.example.test")
server.add_soa("example.test", minimum=30)

import greenfix
greenfix.patch()


def outcome(call):
    try:
        value = call()
        if isinstance(value, list):
            value = [list(map(str, item)) for item in value]
        return {"ok": True, "value": repr(value)}
    except Exception as exc:
        return {"ok": False, "type": type(exc).__name__,
                "errno": getattr(exc, "errno", None), "message": str(exc)}


def timed_with_heartbeat(call):
    with Heartbeat() as beat:
        result = outcome(call)
    return result, beat.duration, beat.net_gap


cases = [
    ("getaddrinfo", ("both.example.test", 80)),
    ("getaddrinfo", ("both.example.test", 80, socket.AF_INET)),
    ("getaddrinfo", ("v4.example.test", "http", 0, socket.SOCK_STREAM)),
    ("getaddrinfo", ("alias.example.test", 53, 0, 0, 0, socket.AI_CANONNAME)),
    ("getaddrinfo", ("missing.example.test", 80)),
    ("getaddrinfo", ("127.0.0.1", 80)),
    ("getaddrinfo", (None, 80)),
    ("getaddrinfo", ("localhost", None, socket.AF_INET)),
    ("gethostbyname", ("v4.example.test",)),
    ("gethostbyname", ("alias.example.test",)),
    ("gethostbyname", ("missing.example.test",)),
    ("gethostbyname", ("localhost",)),
    ("gethostbyname_ex", ("alias.example.test",)),
    ("gethostbyname_ex", ("missing.example.test",)),
]
for name, args in cases:
    green, _, gap = timed_with_heartbeat(lambda: getattr(socket, name)(*args))
    native = outcome(lambda: getattr(libc, name)(*args))
    netns.emit({"case": "%s%r" % (name, args), "green": green, "libc": native, "gap": gap})

# DNS lost: SysLogHandler.__init__ resolves its host with socket.getaddrinfo.
server.set_behavior("drop")
for label, call in (
        ("getaddrinfo", lambda: socket.getaddrinfo("lost.example.test", 514)),
        ("SysLogHandler", lambda: logging.handlers.SysLogHandler(("lost.example.test", 514)))):
    green, green_time, gap = timed_with_heartbeat(call)
    start = clock()
    native = outcome(lambda: libc.getaddrinfo("lost.example.test", 514, 0, socket.SOCK_DGRAM))
    netns.emit({"case": "dropped " + label, "green": green, "libc": native, "gap": gap,
                "green_time": green_time, "libc_time": clock() - start})
'''


@pytest.fixture(scope="module")
def reports():
    netns.require_netns()
    result = netns.run_in_netns(CHILD, "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n",
                                timeout=120)
    result.check()
    return result.reports()


@pytest.mark.slow
def test_lookups_answer_like_libc_without_freezing(reports):
    plain = [r for r in reports if not r["case"].startswith("dropped")]
    assert len(plain) == 14
    for report in plain:
        assert report["green"] == report["libc"], report
        assert report["gap"] < 0.05, report


@pytest.mark.slow
def test_lookups_fail_in_libcs_time_without_freezing(reports):
    dropped = [r for r in reports if r["case"].startswith("dropped")]
    assert len(dropped) == 2
    for report in dropped:
        assert report["green"]["type"] == "gaierror", report
        assert report["green"]["errno"] == report["libc"]["errno"] == -3, report
        assert report["gap"] < 0.05, report
        # glibc's budget: 1 s x 2 attempts (A and AAAA in parallel).
        assert abs(report["green_time"] - report["libc_time"]) <= 0.1 * report["libc_time"], report


def test_lookups_option_leaves_eventlet_functions(tmp_path):
    from eventlet.green import socket as green_socket
    import greenfix
    before = green_socket.getaddrinfo
    greenfix.patch(nameservers=["127.0.0.1:9"], lookups=False)
    try:
        assert green_socket.getaddrinfo is before
    finally:
        greenfix.unpatch()
    greenfix.patch(nameservers=["127.0.0.1:9"])
    try:
        assert green_socket.getaddrinfo is not before
    finally:
        greenfix.unpatch()
    assert green_socket.getaddrinfo is before
