# -*- coding: utf-8 -*-
"""The differential parity suite: generated calls of every patched method,
through greenfix and through the original C method, compared.

Two children run at once in the namespace harness, one per address family
(tests/parity_child.py, "generate" mode): hypothesis generates
``GREENFIX_PARITY_EXAMPLES`` calls (5000 by default) per family, each made
through every method of the family, three times (C, eventlet alone,
greenfix), with libc and greenfix reading the same resolv.conf and hosts
file.  Each (method, family) must show 100% parity outside the differences
documented in docs/parity.rst, and libc must never have resolved a name on
the hub during a greenfix call.

The seed is fixed (hypothesis ``derandomize``), so every run, in CI or not,
checks the same calls; set ``GREENFIX_PARITY_SEED`` to an integer to explore
others.  ``GREENFIX_PARITY_REPORT`` names a file to write the full JSON
report to (samples of every non-parity class included).
"""

from __future__ import absolute_import, division

import json
import os
import sys
import threading

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))

import netns  # noqa: E402
import parity_child  # noqa: E402

pytestmark = pytest.mark.parity

EXAMPLES = int(os.environ.get("GREENFIX_PARITY_EXAMPLES") or 5000)
SEED = os.environ.get("GREENFIX_PARITY_SEED") or None
FAMILIES = ("inet", "inet6")
DOCS = os.path.join(os.path.dirname(_HERE), "docs", "parity.rst")

_lock = threading.Lock()
_reports = {}


def _run_family(family, out):
    config = {"mode": "generate", "family": family, "examples": EXAMPLES,
              "seed": int(SEED) if SEED is not None else None}
    try:
        out[family] = netns.run_in_netns(
            "import sys, parity_child\nparity_child.main(sys.argv[1:])\n",
            parity_child.RESOLV_CONF, hosts_text=parity_child.HOSTS,
            args=[json.dumps(config)], timeout=900)
    except Exception as exc:  # reported by the fixture
        out[family] = exc


def format_report(reports):
    """The parity report as text lines."""
    first = reports[FAMILIES[0]]
    lines = ["greenfix parity: Python %s, %d generated calls per family, seed %s"
             % (first["python"], EXAMPLES, SEED or "fixed (derandomize)"),
             "%-7s %-13s %8s %8s %9s %6s %12s %11s %7s %8s"
             % ("family", "method", "examples", "parity", "intended", "known",
                "divergences", "hub-lookups", "faults", "seconds")]
    totals = dict(examples=0, parity=0, intended=0, known=0, divergences=0, blocking=0,
                  faults=0)
    categories = {}
    for family in FAMILIES:
        report = reports[family]
        for method in sorted(report["methods"]):
            tally = report["methods"][method]
            counts = dict(intended=0, known=0, divergences=0)
            for cls, count in tally["classes"].items():
                kind = cls.split(":")[0]
                if kind == "parity":
                    continue
                counts["divergences" if kind == "divergence" else kind] += count
                categories[cls] = categories.get(cls, 0) + count
            lines.append("%-7s %-13s %8d %8d %9d %6d %12d %11d %7d %8.1f"
                         % (family, method, tally["examples"], tally["parity"],
                            counts["intended"], counts["known"], counts["divergences"],
                            tally["blocking"], tally["faults"], tally["seconds"]))
            for key in ("examples", "parity", "blocking", "faults"):
                totals[key] += tally[key]
            for key in counts:
                totals[key] += counts[key]
    examples = totals["examples"] or 1
    lines.append("total: %d calls; identical outcome %.2f%%; documented differences "
                 "%d intended + %d known; undocumented divergences %d; libc lookups on "
                 "the hub %d; greendns faults %d; parity outside documented "
                 "differences %.2f%%"
                 % (totals["examples"], 100.0 * totals["parity"] / examples,
                    totals["intended"], totals["known"], totals["divergences"],
                    totals["blocking"], totals["faults"],
                    100.0 * (examples - totals["divergences"]) / examples))
    for cls in sorted(categories):
        lines.append("  %-45s %6d" % (cls, categories[cls]))
    lines.append("elapsed: %s" % ", ".join("%s %.1f s" % (f, reports[f]["elapsed"])
                                           for f in FAMILIES))
    return lines


@pytest.fixture(scope="module")
def reports(request):
    """Both families' reports, from two children running at once."""
    netns.require_netns()
    if os.environ.get("CI") != "true":
        pytest.importorskip("hypothesis")
    with _lock:
        if "value" not in _reports:
            runs = {}
            threads = [threading.Thread(target=_run_family, args=(family, runs))
                       for family in FAMILIES]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            result = {}
            for family in FAMILIES:
                run = runs[family]
                if isinstance(run, Exception):
                    raise run
                run.check()
                result[family] = run.report()
            _reports["value"] = result
            _show(request.config, format_report(result))
            path = os.environ.get("GREENFIX_PARITY_REPORT")
            if path:
                with open(path, "w") as handle:
                    json.dump(result, handle, indent=1, sort_keys=True)
    return _reports["value"]


def _show(config, lines):
    """Print the report on the terminal, past pytest's output capture."""
    reporter = config.pluginmanager.getplugin("terminalreporter")
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    try:
        if reporter is None:
            sys.stderr.write("\n".join(lines) + "\n")
            return
        reporter.write_line("")
        for line in lines:
            reporter.write_line(line)
    finally:
        if capture is not None:
            capture.resume_global_capture()


def _describe(tally):
    out = []
    for case in tally["samples"]:
        result = case["result"]
        if result["class"].startswith("divergence:") or result["hub_queries"]:
            out.append("%s %s extra=%s\n   c        %r\n   eventlet %r\n   greenfix %r"
                       "\n   class %s, libc lookups on the hub: %s"
                       % (case["method"], case["address"], case["extra"], result["c"],
                          result["eventlet"], result["greenfix"], result["class"],
                          result["hub_queries"]))
    return "\n".join(out)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("method", parity_child.methods())
def test_parity(reports, method, family):
    report = reports[family]
    tally = report["methods"][method]
    assert tally["examples"] >= EXAMPLES
    divergences = dict((cls, n) for cls, n in tally["classes"].items()
                       if cls.startswith("divergence:"))
    assert not divergences, "%s on %s: %r\n%s" % (method, family, divergences,
                                                  _describe(tally))
    assert report["blocking_check"], "the hub check could not find greenfix's resolver"
    assert tally["blocking"] == 0, _describe(tally)
    # Parity reached through the thread pool would not test greendns at all.
    assert report["fault_check"], "the fault check could not find greendns"
    assert tally["faults"] == 0, "greendns failed, libc answered instead: %s" % (
        tally["fault_samples"],)


def test_every_category_is_documented():
    """Each intended difference and known divergence the classifier may
    return has its section in docs/parity.rst."""
    with open(DOCS) as handle:
        text = handle.read()
    categories = [name for name, _ in parity_child.EVENTLET_DIFFERENCES]
    categories += [name for name, _ in parity_child.KNOWN_DIVERGENCES]
    for category in categories:
        assert "``%s``" % category in text, category
