"""Smoke test of the comparison benchmark (benchmarks/bench_compare.py): a
tiny --quick run of two configurations and two backends in its namespace.

Not a timing target (those live in the benchmark itself): it checks the
table's structure, and the one contrast that does not depend on the
machine's speed: at 5 % DNS loss unpatched eventlet freezes its hub for at
least one resolver timeout (the server drops from a seeded generator, so
the same queries are lost on every run), greenfix for less than 50 ms.
"""

import json
import os
import subprocess
import sys

import pytest

import netns
from children import REPO_ROOT

pytestmark = pytest.mark.slow

SCRIPT = os.path.join(REPO_ROOT, "benchmarks", "bench_compare.py")
CONFIGS = ["eventlet", "eventlet+greenfix"]
BACKENDS = ["libc getaddrinfo", "greenfix greendns"]
RECORDS, NAMES, SENDERS = 40, 5, 50
TIMEOUT = 1.0   # bench_compare's resolv.conf: options timeout:1


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    """(printed table, raw figures) of one tiny run."""
    netns.require_netns()
    out = str(tmp_path_factory.mktemp("compare") / "figures.json")
    proc = subprocess.Popen(
        [sys.executable, SCRIPT, "--quick", "--records", str(RECORDS), "--names", str(NAMES),
         "--senders", str(SENDERS), "--configs", ",".join(CONFIGS),
         "--backends", ",".join(BACKENDS), "--json", out],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT)
    stdout, stderr = proc.communicate()
    table = stdout.decode("utf-8", "replace")
    # 1: a greenfix row missed its target, which the tests below name
    assert proc.returncode in (0, 1), table + stderr.decode("utf-8", "replace")
    with open(out) as handle:
        return table, json.load(handle)


def test_every_configuration_and_loss_has_a_row(comparison):
    table, figures = comparison
    assert [result["config"] for result in figures["syslog"]] == CONFIGS
    for result in figures["syslog"]:
        assert sorted(result["loss"]) == ["0", "1", "5"]
        for row in result["loss"].values():
            assert row["sent"] == RECORDS
            assert 0 <= row["received"] <= RECORDS
            assert 0 < row["p99"] <= row["max"]
            assert row["queries"] >= 1
        assert result["flock"]["senders"] == SENDERS
    for config in CONFIGS:
        for loss in ("0 %", "1 %", "5 %"):
            assert any(line.split()[:3] == [config, loss.split()[0], "%"]
                       for line in table.splitlines()), (config, loss, table)


def test_every_backend_has_a_row(comparison):
    table, figures = comparison
    assert [result["backend"] for result in figures["cold"]] == BACKENDS
    for result in figures["cold"]:
        assert result["names"] == NAMES and result["failures"] == 0
        assert 0 < result["median"] <= result["p90"]
        assert result["backend"] in table


def test_unpatched_eventlet_freezes_greenfix_does_not(comparison):
    _, figures = comparison
    unpatched, patched = figures["syslog"]
    assert unpatched["loss"]["5"]["dropped"] >= 1
    assert unpatched["loss"]["5"]["net_gap"] >= TIMEOUT * 0.95
    assert patched["greenfix"] is True
    for row in patched["loss"].values():
        assert row["net_gap"] < 0.05


def test_single_flight_sends_one_query_for_every_sender(comparison):
    _, figures = comparison
    unpatched, patched = figures["syslog"]
    assert unpatched["flock"]["queries"] == SENDERS
    assert patched["flock"]["queries"] == 1
