"""The pytest launcher of tox.ini's [testenv] commands.

    python scripts/tox_pytest.py default ARGS  ->  pytest ARGS                  (default hub)
    python scripts/tox_pytest.py HUB ARGS      ->  EVENTLET_HUB=HUB pytest -m hubs ARGS
                                                   ("no test selected", exit 5, is fine)

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
"""

from __future__ import print_function

import os
import subprocess
import sys

RERUN_MARK = "=== greenfix - RERUN of the failed tests (--last-failed); " \
             "GREENFIX_RERUN_FAILED=0 turns this off"


def _pytest(args):
    """Exit status of one pytest session in this interpreter."""
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
    import pytest
    return int(pytest.main(args))


def main(argv):
    hub, rest = argv[0], argv[1:]
    if rest[:1] == ["--pytest-only"]:  # the re-run's own process
        return _pytest(rest[1:])
    subset = hub != "default"
    args = (["-m", "hubs"] if subset else []) + ["-rfE"] + rest
    if subset:
        os.environ["EVENTLET_HUB"] = hub
    print("=== greenfix - pytest " + " ".join(args) + " - EVENTLET_HUB="
          + os.environ.get("EVENTLET_HUB", "(default)"))
    sys.stdout.flush()
    rc = _pytest(args)
    if rc == 1 and os.environ.get("GREENFIX_RERUN_FAILED", "1") != "0":
        print(RERUN_MARK)
        sys.stdout.flush()
        rc = subprocess.call([sys.executable, __file__, hub, "--pytest-only"]
                             + args + ["--last-failed"])
    return 0 if rc == 5 and subset else rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
