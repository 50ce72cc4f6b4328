"""The pytest launcher of tox.ini's [testenv] commands.

    python scripts/tox_pytest.py default ARGS  ->  pytest ARGS                  (default hub)
    python scripts/tox_pytest.py HUB ARGS      ->  EVENTLET_HUB=HUB pytest -m hubs ARGS
                                                   ("no test selected", exit 5, is fine)

A ``-m EXPR`` in ARGS (``scripts/test-fast.sh`` passes ``-m "not slow"``)
narrows the hub subset to ``-m "hubs and (EXPR)"`` instead of replacing it.

It is ``python -m pytest`` minus the current directory on ``sys.path``, so the
tests import the greenfix that tox built and installed (sdist), not ./greenfix.

If tests fail (exit 1), the failed ones are re-run once (``--last-failed``)
and that result counts: the hub-freeze tests measure gaps of tens of ms,
which a second tox env on the same 2 cores sometimes stretches.  The re-run
is a fresh interpreter: a second ``pytest.main()`` in this one would find the
test modules already imported, and with them results they keep per process
(the namespace launches of tests/test_fidelity.py), so it would only repeat
the first verdict.  Both runs stay in the log, and scripts/test.sh lists the
tests that passed only on the re-run.  ``GREENFIX_RERUN_FAILED=0`` turns the
re-run off.

Each run ends with a line naming the eventlet hub it ran under (HUB_MARK,
read by scripts/matrix_report.py).  With ``GREENFIX_PROGRESS=path`` (set by
scripts/test.sh) it also appends a JSON line to that file when it starts and
when it ends, which scripts/test.sh prints while tox runs the environments
in parallel.
"""

from __future__ import print_function

import json
import os
import subprocess
import sys
import time

RERUN_MARK = "=== greenfix - RERUN of the failed tests (--last-failed); " \
             "GREENFIX_RERUN_FAILED=0 turns this off"
HUB_MARK = "=== greenfix - eventlet hub: "


def _pytest(args, plugins=()):
    """Exit status of one pytest session in this interpreter."""
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
    import pytest
    return int(pytest.main(args, plugins=list(plugins)))


class _Counts(object):
    """pytest plugin: the session's outcome counts, for the progress file."""

    def __init__(self):
        self.stats = {}

    def pytest_terminal_summary(self, terminalreporter):
        self.stats = dict((key, len(value)) for key, value in terminalreporter.stats.items()
                          if key and key != "warnings")


def _hub_subset_args(rest):
    """``-m hubs`` plus ``rest``, a ``-m EXPR`` in ``rest`` folded into it."""
    expression, others, args = None, [], iter(rest)
    for arg in args:
        if arg == "-m":
            expression = next(args, "")
        elif arg.startswith("-m") and not arg.startswith("--"):
            expression = arg[2:].lstrip("=")
        else:
            others.append(arg)
    selection = "hubs" if expression is None else "hubs and (%s)" % expression
    return ["-m", selection] + others


def _hub_in_use():
    """The hub eventlet runs under in this process: $EVENTLET_HUB, else the
    default one (eventlet.hubs.get_default_hub(), epolls on Linux).  Called
    after the session, when the tests have imported eventlet."""
    if os.environ.get("EVENTLET_HUB"):
        return os.environ["EVENTLET_HUB"]
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eventlet >= 0.36 warns on import
            from eventlet import hubs
        return hubs.get_default_hub().__name__.rpartition(".")[2]
    except Exception:  # eventlet missing or broken: the tests said why
        return "default"


def _progress(event, hub, **details):
    """Append one JSON line to $GREENFIX_PROGRESS, if set."""
    path = os.environ.get("GREENFIX_PROGRESS")
    if not path:
        return
    record = dict(details, event=event, hub=hub, time=time.time(),
                  env=os.environ.get("TOX_ENV_NAME", "?"))
    with open(path, "a") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


def main(argv):
    hub, rest = argv[0], argv[1:]
    if rest[:1] == ["--pytest-only"]:  # the re-run's own process
        return _pytest(rest[1:])
    subset = hub != "default"
    args = ["-rfE"] + (_hub_subset_args(rest) if subset else rest)
    if subset:
        os.environ["EVENTLET_HUB"] = hub
    print("=== greenfix - pytest " + " ".join(args) + " - EVENTLET_HUB="
          + os.environ.get("EVENTLET_HUB", "(default)"))
    sys.stdout.flush()
    _progress("start", hub)
    counts = _Counts()
    rc = _pytest(args, [counts])
    in_use = _hub_in_use()
    print(HUB_MARK + in_use)
    sys.stdout.flush()
    rerun = rc == 1 and os.environ.get("GREENFIX_RERUN_FAILED", "1") != "0"
    if rerun:
        print(RERUN_MARK)
        sys.stdout.flush()
        rc = subprocess.call([sys.executable, __file__, hub, "--pytest-only"]
                             + args + ["--last-failed"])
    rc = 0 if rc == 5 and subset else rc
    _progress("end", in_use, counts=counts.stats, rerun=rerun, rc=rc)
    return rc

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
