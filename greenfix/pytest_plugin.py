"""pytest plugin: fail a test that blocked the hub (see docs/watchdog.rst).

Installed with greenfix (entry point ``pytest11``) and inert unless asked:

* ``--greenfix-max-block=MS`` (ini ``greenfix_max_block``): fail any test
  during which the hub was blocked longer than MS milliseconds, with the
  blocking stack in the failure;
* ``@pytest.mark.greenfix_max_block(ms)``: the same for one test (``None``
  exempts a test from the command-line limit);
* ``--greenfix-strict`` (ini ``greenfix_strict``): fail a test in which a
  host name reached libc on the hub thread anyway (Python 3.8+).

The test's call phase is watched (not its fixtures), on the hub of the
framework greenfix detects (the one that monkey-patched socket, else the
only one imported); with neither imported, nothing is watched.  Imports
neither framework itself.
"""

from __future__ import absolute_import

import sys

import pytest

_FAILURES = "_greenfix_failures"


def pytest_addoption(parser):
    group = parser.getgroup("greenfix", "greenfix hub watchdog")
    group.addoption("--greenfix-max-block", type=float, default=None, metavar="MS",
                    help="fail a test during which the eventlet/gevent hub was blocked "
                         "longer than MS milliseconds")
    group.addoption("--greenfix-strict", action="store_true", default=False,
                    help="fail a test in which a host name reached libc on the hub thread "
                         "(Python 3.8+)")
    parser.addini("greenfix_max_block", default="",
                  help="default for --greenfix-max-block (milliseconds)")
    parser.addini("greenfix_strict", type="bool", default=False,
                  help="default for --greenfix-strict")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "greenfix_max_block(ms): fail the test if the hub was blocked longer "
                   "than ms milliseconds (None: not watched)")


def _command_line_limit(config):
    value = config.getoption("greenfix_max_block")
    if value is None:
        text = config.getini("greenfix_max_block").strip()
        value = float(text) if text else None
    return value


def _strict(config):
    return config.getoption("greenfix_strict") or config.getini("greenfix_strict")


def _limit_for(item):
    marker = item.get_closest_marker("greenfix_max_block")
    if marker is None:
        return _command_line_limit(item.config)
    return marker.args[0] if marker.args else marker.kwargs.get("ms")


def pytest_report_header(config):
    limit, strict = _command_line_limit(config), _strict(config)
    if limit is None and not strict:
        return None
    lines = ["greenfix watchdog: max block %s" % ("%g ms" % limit if limit is not None else "off")]
    if strict and not hasattr(sys, "addaudithook"):
        lines.append("greenfix strict mode: unavailable before Python 3.8 (no audit hooks)")
    elif strict:
        lines.append("greenfix strict mode: on")
    return lines


def _checks_for(item):
    """The context managers that watch this test (none: inert)."""
    from greenfix import frameworks, watchdog
    if frameworks.detect() is None:
        return []
    checks = []
    limit = _limit_for(item)
    if limit is not None:
        checks.append(watchdog.no_block(limit))
    if _strict(item.config) and hasattr(sys, "addaudithook"):   # Python 3.8+
        checks.append(watchdog.no_hub_lookups())
    return checks


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    config = item.config
    if _limit_for(item) is None and not _strict(config):
        yield
        return
    from greenfix import watchdog
    checks = _checks_for(item)
    for check in checks:
        check.__enter__()
    failures = []
    setattr(item, _FAILURES, failures)
    try:
        yield
    finally:
        for check in reversed(checks):
            try:
                check.__exit__(None, None, None)
            except (watchdog.HubBlocked, watchdog.HubLookup) as exc:
                failures.append(str(exc))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    failures = getattr(item, _FAILURES, None)
    if call.when != "call" or not failures:
        return
    report = outcome.get_result()
    text = "greenfix: " + "\n\ngreenfix: ".join(failures)
    if report.passed:
        report.outcome = "failed"
        report.longrepr = text
    else:
        report.sections.append(("greenfix watchdog", text))
