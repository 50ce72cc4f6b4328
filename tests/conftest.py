"""Shared fixtures: a real DNS server on loopback and greenfix patched to
use it (so these tests never reach the machine's own resolver)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dnsserver import DNSServer  # noqa: E402

import greenfix  # noqa: E402

ZONE = "example.test"
RECORDS = [
    ("svc.example.test", "A", "127.0.0.1"),
    ("svc.example.test", "AAAA", "::1"),
    ("v4only.example.test", "A", "127.0.0.2"),
    ("v6only.example.test", "AAAA", "::1"),
    ("alias.example.test", "CNAME", "svc.example.test"),
]


def populate(server):
    """The records every test server carries."""
    for name, rdtype, value in RECORDS:
        server.add(name, rdtype, value, ttl=60)
    server.add_soa(ZONE, minimum=30)
    return server


@pytest.fixture
def dns_server():
    server = populate(DNSServer()).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hosts_file(tmp_path):
    path = tmp_path / "hosts"
    path.write_text(u"127.0.0.1 localhost files-only.test\n::1 localhost\n")
    return str(path)


@pytest.fixture
def patched(dns_server, hosts_file, recwarn):
    """greenfix patched in this process, resolving through ``dns_server``;
    undone after the test.  resolver="greendns": "auto" could hand a lookup
    to libc, which would ask the machine's own nameserver."""
    greenfix.patch(resolver="greendns", nameservers=["127.0.0.1:%d" % dns_server.port],
                   hosts=hosts_file, timeout=1, attempts=1)
    try:
        yield dns_server
    finally:
        greenfix.unpatch()
