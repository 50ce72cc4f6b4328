"""What scripts/test.sh prints about the tox runs (Python 3 only).

    python scripts/matrix_report.py watch PROGRESS   while tox runs the envs in parallel
    python scripts/matrix_report.py summary RESULT   after tox, from its --result-json

``watch`` reads the JSON lines that scripts/tox_pytest.py appends to PROGRESS
($GREENFIX_PROGRESS) and prints a line each time a pytest run ends, and once
a minute the runs still going.  It stops when PROGRESS + ".done" exists, or
when scripts/test.sh is gone.

``summary`` prints one row per pytest run, labelled with the env and the
eventlet hub it ran under (the default hub's full run, then the ``hubs``
subset under each other hub), the tests that passed only when re-run, and a
total.
"""

from __future__ import print_function

import json
import os
import re
import sys
import time

PERIOD = 60.0          # seconds between "still running" lines
POLL = 2.0             # seconds between reads of the progress file
RERUN_MARK = "=== greenfix - RERUN"
HUB_MARK = re.compile(r"^=== greenfix - eventlet hub: (\S+)$", re.M)
HUB_ASKED = re.compile(r"EVENTLET_HUB=(\S+)")
# pytest's closing line, "=== 3 passed, 1 skipped in 2.01s ===" (no "=" with -q)
CLOSING = re.compile(r"^=*\s*(\d+ \w+.* in [0-9.]+ ?s(?:econds)?\b.*?)\s*=*$")
COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped)")
FAILED = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


def _minutes(seconds):
    return "%d min %02d s" % divmod(int(seconds), 60)


def _describe_counts(counts):
    order = ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "deselected")
    return ", ".join("%d %s" % (counts[key], key) for key in order if counts.get(key)) \
        or "no tests"


def _ended(record, start):
    outcome = "OK" if record.get("rc") == 0 else "FAIL(exit %s)" % record.get("rc")
    rerun = " after re-running the failed ones" if record.get("rerun") else ""
    return "[test.sh] %s  %s [%s] %s: %s%s" % (
        _minutes(record["time"] - start), record["env"], record["hub"], outcome,
        _describe_counts(record.get("counts") or {}), rerun)


def watch(path):
    """Print the runs that end, and each minute the ones still going."""
    start = last_period = time.time()
    parent, offset, running = os.getppid(), 0, {}
    while True:
        finished = os.path.exists(path + ".done") or os.getppid() != parent
        if os.path.exists(path):
            with open(path) as progress:
                progress.seek(offset)
                lines = progress.readlines()
                offset = progress.tell()
            for record in map(json.loads, lines):
                if record["event"] == "start":
                    running[record["env"]] = (record["hub"], record["time"])
                else:
                    running.pop(record["env"], None)
                    print(_ended(record, start))
        if finished:
            return 0
        if time.time() - last_period >= PERIOD and running:
            last_period = time.time()
            print("[test.sh] %s  still running: %s" % (_minutes(last_period - start), ", ".join(
                "%s [%s, %s]" % (env, hub, _minutes(last_period - since))
                for env, (hub, since) in sorted(running.items()))))
        sys.stdout.flush()
        time.sleep(POLL)


def _counts(line):
    counts = {"passed": 0, "failed": 0, "skipped": 0}
    for number, kind in COUNTS.findall(line or ""):
        counts["failed" if kind.startswith("error") else kind] += int(number)
    return counts


def _closing(output):
    lines = [match.group(1) for match in map(CLOSING.match, output.splitlines()) if match]
    return lines[-1] if lines else None


def _hub(output):
    marked = HUB_MARK.search(output)
    asked = HUB_ASKED.search(output)
    return marked.group(1) if marked else asked.group(1) if asked else "?"


def _run_row(env, output, total, flaky):
    """(hub, text) of one pytest run; adds its counts to ``total`` and its
    tests that passed only when re-run to ``flaky``."""
    first, _, rerun = output.partition(RERUN_MARK)
    closing, hub = _closing(first), _hub(first)
    if closing is None:
        return None
    first_counts = _counts(closing)
    if not rerun:
        for key in total:
            total[key] += first_counts[key]
        return hub, closing
    closing_rerun = _closing(rerun)
    rerun_counts = _counts(closing_rerun)
    names = sorted(set(FAILED.findall(first)) - set(FAILED.findall(rerun)))
    if not names and first_counts["failed"] > rerun_counts["failed"]:
        names = ["%d test(s)" % (first_counts["failed"] - rerun_counts["failed"])]
    flaky.extend("%s [%s] %s" % (env, hub, name) for name in names)
    total["passed"] += first_counts["passed"] + rerun_counts["passed"]
    total["failed"] += rerun_counts["failed"]
    total["skipped"] += first_counts["skipped"]
    return hub, "%s -> RERUN %s" % (closing, closing_rerun or "(no result)")


def summary(path):
    """One row per pytest run (env, status, hub, pytest's closing line)."""
    data = json.load(open(path))
    total, flaky = {"passed": 0, "failed": 0, "skipped": 0}, []
    print("\n[test.sh] summary: one row per pytest run, named by its eventlet hub "
          "(the default hub runs the selected tests, each other hub their `hubs` ones)")
    for env, info in data.get("testenvs", {}).items():
        if "result" not in info:
            continue  # not selected
        rows = [_run_row(env, re.sub(r"\x1b\[[0-9;]*m", "", cmd.get("output", "")), total, flaky)
                for cmd in info.get("test", [])]
        rows = [row for row in rows if row] or [("", "(no pytest run)")]
        result = info["result"]
        status = "OK" if result.get("success") else "FAIL(exit %s)" % result.get("exit_code")
        for index, (hub, text) in enumerate(rows):
            print("  %-22s %-13s %-8s %s" % (env if index == 0 else "",
                                             status if index == 0 else "", hub, text))
    if flaky:
        print("[test.sh] failed, then passed when re-run (GREENFIX_RERUN_FAILED=0 makes these fail):")
        for line in flaky:
            print("  " + line)
    print("matrix: %(passed)d passed, %(failed)d failed, %(skipped)d skipped" % total)
    return 0


if __name__ == "__main__":
    command, argument = sys.argv[1:3]
    sys.exit({"watch": watch, "summary": summary}[command](argument))
