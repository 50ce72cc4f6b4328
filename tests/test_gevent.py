"""greenfix under gevent: the same fix and the same guarantees.

gevent resolves a host name itself, cooperatively, only in ``connect`` on a
socket that is not non-blocking; ``sendto``, ``sendmsg``, ``bind`` and a
non-blocking ``connect``/``connect_ex`` hand the name to the C method, which
resolves it with libc on the hub (:mod:`greenfix.patchers.gevent`).  Each
call runs in a fresh interpreter (``tests/scenario.py`` with
``framework="gevent"``) under a 1 ms green heartbeat.  The namespace tests
point libc and gevent's own resolver at the test DNS server through
/etc/resolv.conf; elsewhere greenfix alone is pointed at it
(``nameservers=``), so only the calls gevent hands to C run there.
"""

import json
import sys

import pytest
import six

import children
import netns
from test_regression import EAI_AGAIN, MAX_GAP, check_netns_freeze_fixed, method_params, \
    run_scenario, run_scenario_in_netns

pytestmark = pytest.mark.usefixtures("gevent_installed")

EINPROGRESS = 115

#: the calls gevent hands to the C method unresolved
C_METHODS = ["sendto", "sendto_flags", "bind", "datagram_handler",
             "connect_nonblocking", "connect_ex_nonblocking", "ssl_connect_nonblocking"]
if six.PY3:
    C_METHODS += ["sendmsg", "sendmsg_keyword"]
#: the calls gevent resolves itself (its getaddrinfo, which greenfix caches)
GEVENT_RESOLVED = ["connect_tcp", "connect_ex_tcp", "connect_udp", "ssl_connect",
                   "syslog_handler"]


@pytest.fixture
def gevent_installed():
    children.require_framework("gevent")


def gevent_scenario(**config):
    return run_scenario(framework="gevent", **config)


def gevent_scenario_in_netns(**config):
    return run_scenario_in_netns(framework="gevent", **config)


def delivered(result):
    """The call went through: it returned, or (non-blocking connect) it
    started connecting, as gevent's own call does."""
    outcome = result["outcome"]
    started = outcome.get("errno") == EINPROGRESS or outcome.get("value") == str(EINPROGRESS)
    return (outcome["ok"] or started) and result["arrived"]


@pytest.mark.parametrize("method", method_params(C_METHODS, fast=("sendto",)))
def test_dropped_dns_does_not_freeze_the_gevent_hub(method):
    result = gevent_scenario(method=method, greenfix=True, dns="drop")
    assert result["net_gap"] < MAX_GAP, result
    assert result["outcome"]["type"] == "gaierror", result
    assert result["outcome"]["errno"] == EAI_AGAIN, result
    assert result["queries"] >= 1 and not result["arrived"], result


@pytest.mark.parametrize("method", method_params(C_METHODS, fast=("sendto",)))
def test_answered_dns_delivers_under_gevent(method):
    result = gevent_scenario(method=method, greenfix=True, dns="answer")
    assert delivered(result), result
    assert result["net_gap"] < MAX_GAP, result


@pytest.mark.parametrize("method", method_params(C_METHODS, fast=("sendto",)))
def test_netns_gevent_freezes_without_greenfix_not_with_it(method):
    """Through /etc/resolv.conf: unpatched, gevent hands the name to libc on
    the hub, which freezes for libc's budget (one 1 s try); patched, the
    heartbeat keeps ticking and the outcome is the same."""
    check_netns_freeze_fixed(method, framework="gevent")


@pytest.mark.slow
@pytest.mark.parametrize("method", C_METHODS + GEVENT_RESOLVED)
def test_netns_answered_dns_delivers_like_gevent(method):
    netns.require_netns()
    unpatched = gevent_scenario_in_netns(method=method, greenfix=False, dns="answer", system=True)
    patched = gevent_scenario_in_netns(method=method, greenfix=True, dns="answer", system=True)
    assert delivered(unpatched) and delivered(patched), (patched, unpatched)
    assert patched["outcome"] == unpatched["outcome"], (patched, unpatched)
    assert patched["net_gap"] < MAX_GAP, patched


@pytest.mark.slow
@pytest.mark.parametrize("method", GEVENT_RESOLVED)
def test_netns_calls_gevent_resolves_keep_their_outcome(method):
    """gevent already resolves these off the hub; through greenfix's cache
    they still do, and fail as gevent's own call fails."""
    netns.require_netns()
    unpatched = gevent_scenario_in_netns(method=method, greenfix=False, dns="drop", system=True)
    patched = gevent_scenario_in_netns(method=method, greenfix=True, dns="drop", system=True)
    assert patched["net_gap"] < MAX_GAP, patched
    assert patched["outcome"] == unpatched["outcome"], (patched, unpatched)
    assert patched["outcome"]["errno"] == EAI_AGAIN, patched


def syslog_stream(greenfix, **config):
    netns.require_netns()
    return gevent_scenario_in_netns(method="syslog_stream", greenfix=greenfix, dns="answer",
                                    system=True, **config)


def test_netns_syslog_keeps_delivering_while_dns_goes_dark():
    """The original incident under gevent: records through SysLogHandler to
    a name whose TTL runs out after DNS went dark; greenfix serves the
    stale answer, every record arrives, the hub never stops."""
    result = syslog_stream(True, records=300, interval=0.01, ttl=1, dark_after=0.5)
    assert result["seconds"] > 2.5, result          # the answer expired while dark
    assert result["error_count"] == 0 and result["arrived"] == 300, result
    assert result["net_gap"] < MAX_GAP, result


@pytest.mark.slow
def test_netns_syslog_without_greenfix_freezes_and_loses_records():
    """What the test above guards against: unpatched, each record's sendto
    asks libc again, and with DNS dark every one freezes the hub and is
    lost."""
    result = syslog_stream(False, records=4, interval=0.01, ttl=1, dark_after=0.0)
    assert result["net_gap"] >= 0.9 and result["arrived"] < 4, result


@pytest.mark.slow
def test_netns_syslog_under_dns_loss_has_submillisecond_p99():
    result = syslog_stream(True, records=1000, interval=0.003, ttl=1, loss=0.05)
    assert result["error_count"] == 0 and result["arrived"] == 1000, result
    assert result["p99"] < 0.001, result
    assert result["net_gap"] < MAX_GAP, result


PATCH_CHILD = r"""
import json, socket, sys, warnings
from gevent import monkey
if sys.argv[1] == "patched":
    monkey.patch_all()
import gevent.socket
import greenfix
cls = gevent.socket.socket
names = ("connect", "connect_ex", "sendto", "bind", "sendmsg")
before = dict((n, cls.__dict__.get(n)) for n in names)
lookups = (socket.getaddrinfo, gevent.socket.getaddrinfo)
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    first = greenfix.patch(**json.loads(sys.argv[2]))
changed = sorted(n for n in names if cls.__dict__.get(n) is not before[n])
cached = [f is not g for f, g in zip((socket.getaddrinfo, gevent.socket.getaddrinfo), lookups)]
from greenfix.control import _state
framework = _state.framework
second = greenfix.patch()
undone = greenfix.unpatch()
restored = all(cls.__dict__.get(n) is before[n] for n in names)
restored = restored and (socket.getaddrinfo, gevent.socket.getaddrinfo) == lookups
print(json.dumps({"first": first, "second": second, "undone": undone, "framework": framework,
                  "changed": changed, "cached": cached, "restored": restored,
                  "warnings": [str(w.message) for w in caught]}))
"""


def patch_child(mode, **options):
    out = children.check_output(["-W", "ignore::DeprecationWarning", "-c", PATCH_CHILD,
                                 mode, json.dumps(options)])
    return json.loads(out.decode().strip().splitlines()[-1])


def test_patch_detects_gevent_and_unpatch_restores_every_original():
    report = patch_child("patched")
    assert report["first"] is True and report["second"] is False, report
    assert report["framework"] == "gevent" and report["warnings"] == [], report
    expected = ["bind", "connect", "connect_ex", "sendto"]
    if sys.version_info[0] > 2:
        expected.append("sendmsg")
    assert report["changed"] == sorted(expected), report
    assert report["cached"] == [True, True], report
    assert report["undone"] is True and report["restored"] is True, report


def test_gevent_imported_but_not_monkey_patched_warns_and_can_be_forced():
    report = patch_child("unpatched")
    assert report["framework"] == "gevent", report
    assert len(report["warnings"]) == 1, report
    assert "before gevent.monkey.patch_all()" in report["warnings"][0], report
    # gevent's own sockets (gevent.socket.socket) are covered all the same;
    # the stdlib's socket.getaddrinfo is not gevent's: left alone
    assert report["cached"] == [False, True], report
    forced = patch_child("unpatched", framework="gevent")
    assert forced["framework"] == "gevent" and forced["restored"], forced
