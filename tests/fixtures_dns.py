# -*- coding: utf-8 -*-
"""pytest fixtures for the test DNS server and the netns harness.

Use them from a test module or from conftest.py with::

    from fixtures_dns import dns_server, dns_server6, netns_required  # noqa

(pytest finds fixtures imported into a module's namespace.)

``dns_server``     a started ``DNSServer`` on 127.0.0.1, ephemeral port,
                   stopped after the test.
``dns_server6``    the same on ::1 (skipped when IPv6 loopback is missing).
``netns_required`` skips the test without network namespaces, fails it when
                   CI=true (see ``netns.require_netns``).
"""

from __future__ import absolute_import

import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import dnsserver  # noqa: E402
import netns  # noqa: E402


def ipv6_loopback_available():
    sock_mod = dnsserver._socket
    if not getattr(sock_mod, 'has_ipv6', False):
        return False
    s = sock_mod.socket(sock_mod.AF_INET6, sock_mod.SOCK_DGRAM)
    try:
        s.bind(('::1', 0))
        return True
    except sock_mod.error:
        return False
    finally:
        s.close()


@pytest.fixture
def dns_server():
    server = dnsserver.DNSServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dns_server6():
    if not ipv6_loopback_available():
        pytest.skip('no IPv6 loopback')
    server = dnsserver.DNSServer(host='::1').start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def netns_required():
    netns.require_netns()
