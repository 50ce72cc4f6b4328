# -*- coding: utf-8 -*-
"""The differential parity suite: generated calls of every patched method,
through greenfix and through eventlet's own method (the reference), with the
original C method alongside to explain eventlet's own departures from it.

Two children run at once in the namespace harness, one per address family
(tests/parity_child.py, "generate" mode): hypothesis generates
``GREENFIX_PARITY_EXAMPLES`` calls (5000 by default) per family, each on a
socket that is blocking, has a timeout, is non-blocking or is made under
``socket.setdefaulttimeout()``, each made through every method of the
family, three times (C, eventlet alone, greenfix), with libc and greenfix
reading the same resolv.conf and hosts file.  Each (method, family) must
give eventlet's outcome in every call outside the differences documented in
docs/parity.rst, and libc must never have resolved a name on the hub during
a greenfix call.

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
from children import require_framework  # noqa: E402

pytestmark = pytest.mark.parity

EXAMPLES = int(os.environ.get("GREENFIX_PARITY_EXAMPLES") or 5000)
SEED = os.environ.get("GREENFIX_PARITY_SEED") or None
FAMILIES = ("inet", "inet6")
DOCS = os.path.join(os.path.dirname(_HERE), "docs", "parity.rst")

_lock = threading.Lock()
_reports = {}


def _run_family(framework, family, out):
    config = {"mode": "generate", "framework": framework, "family": family,
              "examples": EXAMPLES,
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
    lines = ["greenfix parity (reference: %s %s's own method): Python %s, "
             "%d generated calls per family, seed %s"
             % (first["framework"], first["version"], first["python"], EXAMPLES,
                SEED or "fixed (derandomize)"),
             "%-7s %-15s %8s %8s %10s %11s %11s %7s %9s %8s"
             % ("family", "method", "examples", "parity", "documented", "divergences",
                "hub-lookups", "faults", "ref!=C", "seconds")]
    totals = dict(examples=0, parity=0, documented=0, divergences=0, blocking=0,
                  faults=0, quirks=0)
    categories = {}
    quirks = {}
    for family in FAMILIES:
        report = reports[family]
        for method in sorted(report["methods"]):
            tally = report["methods"][method]
            counts = dict(documented=0, divergences=0)
            for cls, count in tally["classes"].items():
                kind = cls.split(":")[0]
                if kind == "parity":
                    continue
                counts["divergences" if kind == "divergence" else kind] += count
                categories[cls] = categories.get(cls, 0) + count
            differing = 0
            for quirk, count in tally["quirks"].items():
                if quirk != "same":
                    differing += count
                    quirks[quirk] = quirks.get(quirk, 0) + count
            lines.append("%-7s %-15s %8d %8d %10d %11d %11d %7d %9d %8.1f"
                         % (family, method, tally["examples"], tally["parity"],
                            counts["documented"], counts["divergences"],
                            tally["blocking"], tally["faults"], differing,
                            tally["seconds"]))
            for key in ("examples", "parity", "blocking", "faults"):
                totals[key] += tally[key]
            for key in counts:
                totals[key] += counts[key]
            totals["quirks"] += differing
    examples = totals["examples"] or 1
    lines.append("total: %d calls; greenfix gives %s's outcome in %.2f%%; "
                 "documented differences %d; undocumented divergences %d; libc lookups "
                 "on the hub %d; greendns faults %d; %s differs from the C method "
                 "in %d"
                 % (totals["examples"], first["framework"],
                    100.0 * totals["parity"] / examples,
                    totals["documented"], totals["divergences"], totals["blocking"],
                    totals["faults"], first["framework"], totals["quirks"]))
    for cls in sorted(categories):
        lines.append("  %-45s %6d" % (cls, categories[cls]))
    for quirk in sorted(quirks):
        lines.append("  %s vs C: %-30s %6d" % (first["framework"], quirk, quirks[quirk]))
    lines.append("elapsed: %s" % ", ".join("%s %.1f s" % (f, reports[f]["elapsed"])
                                           for f in FAMILIES))
    return lines


@pytest.fixture
def reports(request, framework):
    """Both families' reports under ``framework``, from two children running
    at once (once per framework and test session)."""
    netns.require_netns()
    require_framework(framework)
    if os.environ.get("CI") != "true":
        pytest.importorskip("hypothesis")
    with _lock:
        if framework not in _reports:
            runs = {}
            threads = [threading.Thread(target=_run_family, args=(framework, family, runs))
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
            _reports[framework] = result
            _show(request.config, format_report(result))
            path = os.environ.get("GREENFIX_PARITY_REPORT")
            if path:
                if framework != parity_child.FRAMEWORKS[0]:
                    path = "%s.%s" % (path, framework)
                with open(path, "w") as handle:
                    json.dump(result, handle, indent=1, sort_keys=True)
    return _reports[framework]


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
            out.append("%s %s extra=%s\n   reference %r\n   greenfix  %r\n   c         %r"
                       "\n   class %s, libc lookups on the hub: %s %s"
                       % (case["method"], case["address"], case["extra"],
                          result["reference"], result["greenfix"], result["c"],
                          result["class"], result["hub_queries"],
                          result.get("outside_queries", "")))
    return "\n".join(out)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("framework, method", [
    (framework, method) for framework in parity_child.FRAMEWORKS
    for method in parity_child.methods(framework)])
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
    """Each documented difference between greenfix and eventlet, and each
    eventlet quirk the C column names, has its section in docs/parity.rst."""
    with open(DOCS) as handle:
        text = handle.read()
    categories = [name for name, _ in parity_child.DOCUMENTED_DIFFERENCES]
    for quirks in parity_child.QUIRKS.values():
        categories += [name for name, _ in quirks]
    categories.append("cpython2-uninitialised-ipv6")
    for category in categories:
        assert "``%s``" % category in text, category


@pytest.mark.parametrize("framework", parity_child.FRAMEWORKS)
def test_every_mode_was_generated(reports):
    """The generated calls cover every socket set-up (timeout,
    non-blocking, setdefaulttimeout) for every method."""
    for family in FAMILIES:
        for method, tally in reports[family]["methods"].items():
            for mode in parity_child.MODES:
                assert tally["modes"].get(mode, 0) >= max(1, EXAMPLES // 10), (
                    family, method, tally["modes"])
