"""The answer cache under gevent (tests/gevent_cache_child.py): query counts
at a real DNS server on loopback, single-flight among greenlets, TTLs,
negative caching, serve-stale, clear_cache(), and gevent's own lookups
(its blocking ``connect``) through the cache."""

import json
import os
import subprocess

import pytest

import children
import netns

CHILD = os.path.join(children.TESTS_DIR, "gevent_cache_child.py")
SCENES = ["sendto_10000", "single_flight", "killed_leader", "ttl", "negative", "stale",
          "nonblocking_connects", "clear_cache"]
EAI_NONAME = -2


@pytest.fixture(scope="module")
def reports():
    children.require_framework("gevent")
    proc = children.popen(["-W", "ignore", CHILD] + SCENES,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    assert proc.returncode == 0, err.decode("utf-8", "replace")
    lines = [json.loads(line) for line in out.decode("utf-8").splitlines() if line.startswith("{")]
    return dict((report["scene"], report) for report in lines)


def test_10000_sendto_cost_one_query(reports):
    report = reports["sendto_10000"]
    assert report["queries"] == 1 and report["received"], report
    assert report["misses"] == 1 and report["hits"] == 9999, report


def test_1000_greenlets_share_one_query(reports):
    report = reports["single_flight"]
    assert report["sent"] == 1000 and report["queries"] == 1, report
    assert report["joins"] == 999, report


def test_a_killed_leader_hands_over(reports):
    report = reports["killed_leader"]
    assert report["follower"] == 1 and report["queries"] == 2, report
    assert report["in_flight"] == 0, report


def test_answer_expires_after_its_ttl(reports):
    assert reports["ttl"] == dict(reports["ttl"], before=1, after=2)


def test_nxdomain_is_cached(reports):
    report = reports["negative"]
    assert report["errors"] == [EAI_NONAME] * 3, report
    assert report["queries"] == 1 and report["negative_hits"] == 2, report


def test_stale_answer_served_at_once_while_dns_is_dark(reports):
    report = reports["stale"]
    assert report["received"] == ["1", "2"] and report["stale"] >= 1, report
    assert report["took"] < 0.05 and report["net_gap"] < 0.05, report


def test_nonblocking_connects_cost_one_query(reports):
    report = reports["nonblocking_connects"]
    assert report["results"] == [115] and report["queries"] == 1, report   # EINPROGRESS


def test_clear_cache_asks_again(reports):
    report = reports["clear_cache"]
    assert report["cleared"] == 1 and report["queries"] == 2, report


def test_netns_gevent_connects_go_through_the_cache():
    """gevent's own lookups (blocking ``connect``, ``create_connection``)
    resolve through gevent's resolver, which reads resolv.conf: in the
    namespace.  50 of each cost one lookup; after the TTL ran out with DNS
    dark, the stale answers still connect, without a hub gap."""
    children.require_framework("gevent")
    netns.require_netns()
    result = netns.run_in_netns(
        "import sys\nsys.argv[1:] = ['system_connects']\n"
        "exec(compile(open(%r).read(), %r, 'exec'))\n" % (CHILD, CHILD),
        "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n", timeout=60)
    result.check()
    report = json.loads(result.stdout.strip().splitlines()[-1])
    # two calls (each its own cache key): A, and AAAA where libc asks both
    assert report["queries"] <= 4, report
    assert report["stale"] == 2 and report["dark_connect_gap"] < 0.05, report
