"""The original report: one lost DNS packet froze the whole process.

Each address-taking call runs in a fresh interpreter (``tests/scenario.py``)
while a green heartbeat ticks every millisecond.  With greenfix and every DNS
reply dropped the heartbeat must keep ticking (worst gap under 50 ms) and the
call must end in the gaierror libc gives.  The namespace tests run the same
call through the system configuration with and without greenfix: without it
the hub freezes for the resolver's whole budget, which is what these tests
catch; with it the outcome is libc's, without the freeze.
"""

import json
import os
import subprocess

import pytest
import six

import children
import netns

SCENARIO = os.path.join(children.TESTS_DIR, "scenario.py")
MAX_GAP = 0.050
EAI_AGAIN = -3

METHODS = ["sendto", "sendto_flags", "connect_udp", "connect_tcp",
           "connect_ex_tcp", "bind", "ssl_connect", "datagram_handler"]
if six.PY3:
    METHODS.append("sendmsg")
# SysLogHandler.__init__ resolves through socket.getaddrinfo, which eventlet
# routes to its own greendns resolver reading /etc/resolv.conf: it only runs
# where that file names the test server, in the namespace.
NETNS_METHODS = METHODS + ["syslog_handler"]

# Resolver budget of the namespace tests: one try of one second.
RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"

# The fast loop's share (scripts/test-fast.sh: -m "not slow"): one UDP and
# one TCP call.  The other methods cost 1 to 4 s each per test and hub, and
# run in the full matrix (scripts/test.sh).
FAST_METHODS = ("sendto", "connect_tcp")


def method_params(methods, fast=FAST_METHODS):
    """``methods`` as test parameters, those not in ``fast`` marked slow."""
    return [method if method in fast else pytest.param(method, marks=pytest.mark.slow)
            for method in methods]


def run_scenario(**config):
    proc = children.popen(["-W", "ignore", SCENARIO, json.dumps(config)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    assert proc.returncode == 0, err.decode("utf-8", "replace")
    return json.loads(out.decode("utf-8").strip().splitlines()[-1])


def run_scenario_in_netns(**config):
    result = netns.run_in_netns(
        "import sys, json\nsys.argv[1:] = [%r]\nexec(compile(open(%r).read(), %r, 'exec'))\n"
        % (json.dumps(config), SCENARIO, SCENARIO),
        RESOLV_CONF, timeout=60)
    result.check()
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.hubs
@pytest.mark.parametrize("method", method_params(METHODS))
def test_dropped_dns_does_not_freeze_the_hub(method):
    result = run_scenario(method=method, greenfix=True, dns="drop")
    assert result["net_gap"] < MAX_GAP, result
    assert result["outcome"]["type"] == "gaierror", result
    assert result["outcome"]["errno"] == EAI_AGAIN, result
    assert result["queries"] >= 1, result
    assert not result["arrived"], result


@pytest.mark.hubs
@pytest.mark.parametrize("method", method_params(METHODS))
def test_answered_dns_delivers(method):
    result = run_scenario(method=method, greenfix=True, dns="answer")
    assert result["outcome"]["ok"], result
    assert result["arrived"], result
    assert result["net_gap"] < MAX_GAP, result


@pytest.mark.parametrize("method", method_params(NETNS_METHODS, fast=("sendto",)))
def test_netns_freeze_without_greenfix_none_with_it(method):
    """Through /etc/resolv.conf, libc and greenfix see the same dropped DNS.

    Unpatched, the call freezes the hub for libc's budget (one 1 s try);
    patched, the heartbeat keeps ticking and the outcome is the same."""
    check_netns_freeze_fixed(method)


def check_netns_freeze_fixed(method, framework="eventlet"):
    """The call with DNS dropped, through the system configuration, without
    and with greenfix: the freeze, then none, and the same outcome."""
    netns.require_netns()
    unpatched = run_scenario_in_netns(method=method, greenfix=False, dns="drop", system=True,
                                      framework=framework)
    patched = run_scenario_in_netns(method=method, greenfix=True, dns="drop", system=True,
                                    framework=framework)
    assert unpatched["net_gap"] >= 0.9, unpatched   # the freeze this test exists to catch
    assert patched["net_gap"] < MAX_GAP, patched
    assert patched["outcome"] == unpatched["outcome"], (patched, unpatched)
    assert patched["outcome"]["errno"] == EAI_AGAIN


@pytest.mark.parametrize("method", method_params(NETNS_METHODS))
def test_netns_answered_dns_delivers_like_libc(method):
    netns.require_netns()
    unpatched = run_scenario_in_netns(method=method, greenfix=False, dns="answer", system=True)
    patched = run_scenario_in_netns(method=method, greenfix=True, dns="answer", system=True)
    assert unpatched["arrived"] and patched["arrived"], (patched, unpatched)
    assert patched["outcome"] == unpatched["outcome"], (patched, unpatched)
    assert patched["net_gap"] < MAX_GAP, patched
