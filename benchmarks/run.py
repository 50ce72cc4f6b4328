"""Run every greenfix benchmark in one process, print each table with
PASS/FAIL against its target, exit 1 if any target is missed.

    python benchmarks/run.py            # or: python -m benchmarks.run
    python benchmarks/run.py --quick    # fewer rounds, 100,000 names
    python benchmarks/run.py --compare  # and the comparison of bench_compare.py

Only loopback traffic: every DNS query goes to a tests/dnsserver.py server on
127.0.0.1 (see benchmarks/common.py).
"""

from __future__ import absolute_import, division, print_function

import functools
import os
import platform
import sys
import time
import traceback
import warnings

if __package__ in (None, ""):
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

with warnings.catch_warnings():
    warnings.simplefilter("ignore")   # eventlet >= 0.36 warns on import
    import eventlet

eventlet.monkey_patch()
warnings.filterwarnings("ignore", message="greenfix.patch\\(\\) was called before")

from benchmarks import (bench_bound, bench_compare, bench_hotpath, bench_queries,  # noqa: E402
                        bench_stale, bench_watchdog)


def main(argv):
    quick = "--quick" in argv
    import greenfix
    print("greenfix %s, Python %s (%s), eventlet %s, %s" % (
        greenfix.__version__, platform.python_version(), platform.python_implementation(),
        eventlet.__version__, platform.platform()))
    runs = [("queries", lambda: bench_queries.run())]
    # the hot path under each framework, in worker processes it monkey-patches
    for framework in sorted(bench_hotpath.FRAMEWORKS):
        if not bench_hotpath.framework_available(framework):
            print("hot path, %s: not measured (%s is not installed)" % (framework, framework))
            continue
        runs.append(("hot path, " + framework, functools.partial(
            bench_hotpath.run, rounds=101 if quick else 501, processes=3 if quick else 5,
            framework=framework)))
    runs += [
        ("serve-stale", lambda: bench_stale.run()),
        ("bound", lambda: bench_bound.run(names=100000 if quick else bench_bound.NAMES)),
        ("watchdog", lambda: bench_watchdog.run(rounds=51 if quick else 201)),
    ]
    if "--compare" in argv:   # child processes in a network namespace (root)
        runs.append(("comparison", lambda: bench_compare.run(quick=quick)))
    failed = []
    started = time.time()
    for name, run in runs:
        print()
        try:
            table = run()
        except Exception:
            traceback.print_exc(file=sys.stdout)
            print("%s: FAIL (raised)" % name)
            failed.append(name)
            continue
        finally:
            sys.stdout.flush()
        print(table.render())
        if not table.passed:
            failed.append(table.title)
    print()
    print("%d benchmarks in %.0f s: %s" % (
        len(runs), time.time() - started,
        "all targets met" if not failed else "MISSED: " + "; ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
