"""Differential suite: ``socket.getaddrinfo`` (and ``gethostbyname``,
``gethostbyname_ex``, ``gethostbyaddr``) after ``greenfix.patch()`` against
the framework's reference, in the namespace harness, over a generated
corpus: dual-stack and multi-address names, CNAMEs, hosts-file names,
search/ndots, every family/type/proto and flag combination, service names,
bad input.  Each call is made cold (through the pool) and again (from the
cache); both must equal the reference's outcome.  The reference: under
eventlet libc's own function (eventlet's greendns is what greenfix
replaces); under gevent gevent's own (its resolver, as ``GEVENT_RESOLVER``
chose: what its ``connect`` uses), ``greenfix.frameworks.gevent.lookup_functions``.
"""

import pytest

import netns
from children import require_framework

pytestmark = pytest.mark.slow   # some 40 s: out of scripts/test-fast.sh

#: How each framework's child patches, and its reference lookups.
PRELUDES = {
    "eventlet": r'''
import eventlet
eventlet.monkey_patch()
from eventlet import patcher
from dnsserver import DNSServer
reference = patcher.original("socket")
STRIDE = 1
''',
    # dnsserver before patch_all(): its threads and locks must be native
    "gevent": r'''
import sys
from dnsserver import DNSServer
from gevent import monkey
monkey.patch_all()
import gevent
gevent.get_hub().exception_stream = None   # no traceback per failed lookup
from greenfix.frameworks.gevent import lookup_functions as reference
# every third combination on Python 2, where each call of gevent's own
# getaddrinfo (a round trip to its thread pool) costs some 5 ms: 15,000
# combinations, not 45,000 (over 10 minutes)
STRIDE = 3 if sys.version_info[0] == 2 else 1
''',
}

CHILD = r'''
import itertools, json, socket
import netns

server = DNSServer(port=53).start()
server.add("dual.example.test", "A", "127.0.0.2")
server.add("dual.example.test", "AAAA", "::1")
server.add("multi.example.test", "A", "127.0.0.3")
server.add("multi.example.test", "A", "127.0.0.4")
server.add("multi.example.test", "A", "127.0.0.5")
server.add("v6only.example.test", "AAAA", "::1")
server.add("alias.example.test", "CNAME", "dual.example.test")
server.add("short.example.test", "A", "127.0.0.6")
server.add_soa("example.test", minimum=30)

import greenfix
greenfix.patch()

HOSTS = ["dual.example.test", "multi.example.test", "v6only.example.test",
         "alias.example.test", "short", "hostsfile", "localhost",
         "missing.example.test", "DUAL.Example.Test.", u"dual.example.test",
         b"multi.example.test", "127.0.0.1", "::1", None]
PORTS = [None, 0, 80, "80", b"443", "http", "domain", "no-such-service", 70000, -1]
FAMILIES = [0, socket.AF_INET, socket.AF_INET6]
TYPES = [0, socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW]
PROTOS = [0, socket.IPPROTO_TCP, socket.IPPROTO_UDP]
FLAGS = [0, socket.AI_PASSIVE, socket.AI_CANONNAME, socket.AI_NUMERICSERV,
         socket.AI_ADDRCONFIG, socket.AI_V4MAPPED, socket.AI_V4MAPPED | socket.AI_ALL,
         socket.AI_CANONNAME | socket.AI_ADDRCONFIG, socket.AI_NUMERICHOST]
BAD = [
    (("dual.example.test", 80.5), {}),
    (("dual.example.test", [80]), {}),
    (("dual.example.test", 80, "x"), {}),
    (("dual.example.test", 80, 0, 0, 0, 2 ** 40), {}),
    ((bytearray(b"dual.example.test"), 80), {}),
    ((12345, 80), {}),
    (("bad\x00host", 80), {}),
    ((u"b\u00fccher.example.test", 80), {}),
    (("a" * 64 + ".example.test", 80), {}),
    (("a..b", 80), {}),
    (("dual.example.test",), {}),
    (("dual.example.test", 80), {"type": socket.SOCK_STREAM}),
    (("dual.example.test", 80), {"flags": socket.AI_CANONNAME, "family": socket.AF_INET}),
    (("dual.example.test", 80), {"nonsense": 1}),
]


def outcome(function, args, kwargs):
    try:
        value = function(*args, **kwargs)
    except Exception as exc:
        return ["raise", type(exc).__name__, repr(exc.args)]
    return ["return", repr(value)]


def compare(label, function_name, args, kwargs):
    green = getattr(socket, function_name)
    original = getattr(reference, function_name)
    expected = outcome(original, args, kwargs)
    cold = outcome(green, args, kwargs)
    cached = outcome(green, args, kwargs)
    again = outcome(original, args, kwargs)
    if expected != again:   # libc itself is not deterministic here: skip
        return None
    if cold != expected or cached != expected:
        return {"case": label, "reference": expected, "cold": cold, "cached": cached}
    return False


calls = 0
differences = []
for host, port, family, socktype, proto, flags in itertools.islice(itertools.product(
        HOSTS, PORTS, FAMILIES, TYPES, PROTOS, FLAGS), None, None, STRIDE):
    args = (host, port, family, socktype, proto, flags)
    result = compare(repr(args), "getaddrinfo", args, {})
    calls += result is not None
    if result:
        differences.append(result)
for args, kwargs in BAD:
    result = compare(repr((args, kwargs)), "getaddrinfo", args, kwargs)
    calls += result is not None
    if result:
        differences.append(result)
for function_name, hosts in (
        ("gethostbyname", HOSTS[:10] + ["bad\x00host", 12345, u"b\u00fccher.test"]),
        ("gethostbyname_ex", HOSTS[:10] + ["bad\x00host", 12345, u"b\u00fccher.test"]),
        ("gethostbyaddr", ["127.0.0.1", "127.0.0.2", "::1", "localhost", "hostsfile",
                           "missing.example.test", "bad\x00host", 12345])):
    for host in hosts:
        result = compare("%s(%r)" % (function_name, host), function_name, (host,), {})
        calls += result is not None
        if result:
            differences.append(result)
netns.emit({"calls": calls, "differences": differences[:20],
            "count": len(differences), "stats": greenfix.stats()["lookups"]["hits"]})
'''

HOSTS_FILE = ("127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
              "127.0.0.7 hostsfile hostsfile.example.test\n")


@pytest.mark.parametrize("framework", ["eventlet", "gevent"])
def test_getaddrinfo_matches_the_reference_on_a_generated_corpus(framework):
    netns.require_netns()
    require_framework(framework)
    result = netns.run_in_netns(
        PRELUDES[framework] + CHILD,
        "nameserver 127.0.0.1\nsearch example.test\noptions ndots:1 timeout:1\n",
        hosts_text=HOSTS_FILE, timeout=600)
    result.check()
    report = result.report()
    assert report["calls"] > 10000, report
    assert report["count"] == 0, report["differences"]
    assert report["stats"] > 1000, report   # the repeated calls came from the cache
