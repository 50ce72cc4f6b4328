"""The answer cache under gevent (tests/gevent_cache_child.py): query counts
at a real DNS server on loopback, single-flight among greenlets, TTLs,
negative caching, serve-stale, clear_cache(), and gevent's own lookups
(its blocking ``connect``) through the cache."""

import json
import os
import subprocess

import pytest
import six

import children
import netns

CHILD = os.path.join(children.TESTS_DIR, "gevent_cache_child.py")
SCENES = ["sendto_10000", "single_flight", "killed_leader", "ttl", "negative", "stale",
          "nonblocking_connects", "clear_cache", "hot_styles", "hot_unusual", "hot_would_block"]
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


# ---------------------------------------------------------------- hot sendto
# greenfix.hotpath.gevent_sendto: literals and cached names inline.

def test_hot_sendto_serves_the_name_and_the_literal_to_every_caller_style(reports):
    """After its first call, each socket's sendto to the cached name or to
    the literal runs no greenfix function but the hot ``sendto``, for a
    tuple kept, a new tuple per call and 4 senders, on IPv4 and IPv6; the
    datagrams reach the receiver on that host; each call to the name
    counts a hit."""
    report = reports["hot_styles"]
    calls, styles = report["calls"], report["styles"]
    assert len(styles) == 6 * len(report["families"]), report
    for key, result in sorted(styles.items()):
        hits = calls if " name " in key else 0
        assert result == {"ran": [], "received": calls, "hits": hits}, key
    assert report["queries"] == len(report["families"]), report   # A, AAAA: once each


#: calls the hot path must hand to the slow path (bytes: Python 3 only;
#: on Python 2 it is the str the name was resolved for)
SLOW = ["flags", "str subclass", "unhashable host", "one argument", "four arguments"] + (
    ["bytes host"] if six.PY3 else [])


def test_hot_sendto_gives_unusual_calls_gevents_outcome(reports):
    """Unusual calls on a socket whose name and literal are in the hot
    table: each returns or raises what gevent's own sendto does with the
    name answered at once; those the hot path cannot serve go to the slow
    path (greenfix functions run)."""
    calls = reports["hot_unusual"]["calls"]
    assert len(calls) == 13, calls
    for label, result in sorted(calls.items()):
        assert result["greenfix"] == result["gevent"], (label, result)
        if label in SLOW:
            assert result["ran"], (label, result)
    assert calls["flags"]["greenfix"] == ["returned", 1], calls["flags"]
    assert calls["str subclass"]["greenfix"] == ["returned", 1], calls["str subclass"]
    assert calls["port out of range"]["greenfix"][1] == "OverflowError", calls


def test_hot_sendto_on_a_closed_socket_fails_as_gevent(reports):
    report = reports["hot_unusual"]
    assert report["closed"] == [report["closed_gevent"]] * 2, report
    assert report["closed_gevent"][0] == "raised", report


def test_hot_sendto_whose_first_try_fails_ends_as_gevents(reports):
    """When the C sendto fails: EWOULDBLOCK on a socket with a timeout or
    blocking, gevent waits and tries again, and so does the hot path (to the
    numeric address); non-blocking, or another error, it is raised after
    one try, as gevent raises it."""
    cases = reports["hot_would_block"]["cases"]
    for label, result in sorted(cases.items()):
        tries = 2 if label.startswith("would block,") and "non-blocking" not in label else 1
        gevent = result["gevent"]
        assert len(gevent["addresses"]) == tries, (label, result)
        for kind in ("name", "literal"):
            assert result[kind] == gevent, (label, kind, result)
    assert cases["would block, timeout"]["gevent"]["outcome"] == ["returned", 1], cases
    assert reports["hot_would_block"]["received"] == 2 + 3 * 2, reports["hot_would_block"]


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
