"""Shared fixtures: real DNS servers on loopback, greenfix patched to use one
(so these tests never reach the machine's own resolver), and the namespace
harness's precondition.

This is the one place that puts ``tests/`` on ``sys.path``, for the helper
modules (dnsserver, netns, heartbeat, children...); children started by the
tests get it on ``PYTHONPATH`` from ``children.child_env()``.

The DNS servers, one fixture per shape, each started on an ephemeral port and
stopped after the test:

``dns_server_example_zone``  127.0.0.1, serving :data:`RECORDS` in the
                             example.test zone (SOA minimum 30 s)
``dns_server_empty``         127.0.0.1, no records: the test adds its own
``dns_server_empty_v6``      the same on ::1 (skipped without IPv6 loopback)
"""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import netns  # noqa: E402
from dnsserver import DNSServer, ipv6_loopback_available  # noqa: E402

import greenfix  # noqa: E402

ZONE = "example.test"
RECORDS = [
    ("svc.example.test", "A", "127.0.0.1"),
    ("svc.example.test", "AAAA", "::1"),
    ("v4only.example.test", "A", "127.0.0.2"),
    ("v6only.example.test", "AAAA", "::1"),
    ("alias.example.test", "CNAME", "svc.example.test"),
]


# tests/test_recipes.py runs docs/recipes.rst's programs, whose frameworks
# (gunicorn, Celery, Flask-SocketIO, graypy, oslo.service, gevent) only the
# `recipes` tox env installs; that env sets GREENFIX_RECIPES=1.  Elsewhere the
# module is not collected at all: it could only skip, and under CI=true a skip
# counts as a failure.
collect_ignore = [] if os.environ.get("GREENFIX_RECIPES") == "1" else ["test_recipes.py"]


# Modules whose every test is slow, marked from here: test_parity.py (the
# generated parity suite, two namespace launches of 5000 calls, ~20 s).  The
# mark can move into the module's own ``pytestmark``.
SLOW_MODULES = ("test_parity.py",)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Mark the tests of SLOW_MODULES ``slow`` before ``-m`` selects."""
    for item in items:
        if os.path.basename(item.nodeid.split("::")[0]) in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


def populate(server):
    """The records of ``dns_server_example_zone``."""
    for name, rdtype, value in RECORDS:
        server.add(name, rdtype, value, ttl=60)
    server.add_soa(ZONE, minimum=30)
    return server


@pytest.fixture
def dns_server_example_zone():
    with populate(DNSServer()) as server:
        yield server


@pytest.fixture
def dns_server_empty():
    with DNSServer() as server:
        yield server


@pytest.fixture
def dns_server_empty_v6():
    if not ipv6_loopback_available():
        pytest.skip("no IPv6 loopback")
    with DNSServer(host="::1") as server:
        yield server


@pytest.fixture
def netns_required():
    """Skip without network namespaces; fail instead when CI=true
    (``netns.require_netns``)."""
    netns.require_netns()


@pytest.fixture
def hosts_file(tmp_path):
    path = tmp_path / "hosts"
    path.write_text(u"127.0.0.1 localhost files-only.test\n::1 localhost\n")
    return str(path)


@pytest.fixture
def patched(dns_server_example_zone, hosts_file, recwarn):
    """greenfix patched in this process, resolving through
    ``dns_server_example_zone`` (yielded); undone after the test.
    resolver="greendns": "auto" could hand a lookup to libc, which would ask
    the machine's own nameserver."""
    greenfix.patch(resolver="greendns",
                   nameservers=["127.0.0.1:%d" % dns_server_example_zone.port],
                   hosts=hosts_file, timeout=1, attempts=1)
    try:
        yield dns_server_example_zone
    finally:
        greenfix.unpatch()
