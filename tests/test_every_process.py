"""Every process, every client: lookups in forked children, clients that
connect through ``getaddrinfo()`` while DNS is dark, and a DNS outage that
must not starve ``eventlet.tpool`` (tests/every_process_child.py, in the
namespace harness with the test DNS server)."""

import io
import os
import sys

import pytest

import netns

RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"
MAX_GAP = 0.05
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "every_process_child.py")


def run_scene(*args):
    netns.require_netns()
    with io.open(CHILD, encoding="utf-8") as source:
        script = source.read()
    result = netns.run_in_netns(script, RESOLV_CONF, timeout=180, args=args)
    result.check()
    return result.reports()


def test_patch_starts_no_thread_and_the_first_lookup_does_not_stall_the_hub():
    """eventlet's own tests (patcher_test: test_orig_thread,
    test_fork_after_monkey_patch) count on patching starting no thread."""
    reports = run_scene("threads")
    assert reports[0]["after_patch"] == reports[0]["before_patch"], reports
    first = reports[1]
    assert first["first_lookup"]["ok"], first
    assert first["gap"] < MAX_GAP, first
    assert first["after_lookup"] > reports[0]["after_patch"], first   # started on demand


@pytest.mark.parametrize("backend", ["auto", "greendns", "threadpool"])
def test_forked_child_resolves(backend):
    reports = run_scene("fork", backend)
    statuses = [r for r in reports if r.get("scene") == "fork-status"]
    assert [s["status"] for s in statuses] == [0, 0, 0], reports
    children = dict((r["kind"], r) for r in reports if r.get("scene") == "fork")
    assert set(children) >= set(["parent", "same hub", "new hub", "in flight"]), reports
    for kind in ("parent", "same hub", "new hub"):
        for call in ("getaddrinfo", "create_connection", "gethostbyname", "connect"):
            assert children[kind][call]["ok"], (kind, call, children[kind])
    assert children["in flight"]["in_flight"]["ok"], children["in flight"]
    if sys.version_info >= (3, 4):   # multiprocessing.get_context()
        assert children["multiprocessing"]["getaddrinfo"]["ok"], children


@pytest.mark.slow
def test_getaddrinfo_clients_keep_connecting_while_dns_is_dark():
    reports = run_scene("dark")
    by_phase = {}
    for report in reports:
        by_phase.setdefault(report["phase"], {})[report["client"]] = report
    assert sorted(by_phase["answering"]) == ["create_connection", "redis-py", "smtplib"]
    for phase in ("answering", "dark"):
        for client, report in sorted(by_phase[phase].items()):
            assert report["result"]["ok"], report
            assert report["gap"] < MAX_GAP, report
    for client in ("create_connection", "redis-py"):
        report = by_phase["dark"][client]
        assert report["seconds"] < 0.5, report   # served stale, not after a timeout
    # smtplib's default local_hostname is socket.getfqdn(): a reverse lookup
    # (gethostbyaddr), which waits out the resolver as libc does, off the hub.


@pytest.mark.slow
def test_dns_outage_does_not_starve_tpool_and_identical_lookups_share_a_call():
    reports = run_scene("outage")
    outage, shared = reports
    assert outage["failed"] == outage["lookups"] == 60, outage
    assert max(outage["tpool_waits"]) < MAX_GAP, outage
    assert shared["answers"] == 1, shared
    assert shared["same_queries"] == shared["one_call_queries"] > 0, shared
