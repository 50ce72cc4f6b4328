# -*- coding: utf-8 -*-
"""The recipes of docs/recipes.rst, each run as the page shows it, inside a
private network namespace whose resolver is the test DNS server
(``tests/recipes_child.py``): the program answers that greenfix is patched
in the process that does the work and that its log host name went through
greenfix, and the log records it sent to that name arrived.

Collected only in the ``recipes`` tox env (GREENFIX_RECIPES=1, see
tests/conftest.py), which has gunicorn, celery, Flask-SocketIO, graypy,
oslo.service and gevent installed.
"""

import io
import os

import pytest

import netns
from recipes_child import COMMANDS, DATAGRAM_PORT, GELF_PORT, SYSLOG_PORT

pytestmark = pytest.mark.slow

RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:2 attempts:2\n"
CHILD = os.path.join(netns.TESTS_DIR, "recipes_child.py")
DOCS_PAGE = os.path.join(netns.REPO_ROOT, "docs", "recipes.rst")


def run_recipe(recipe, framework):
    """The child's report; fails with everything it printed when it went wrong."""
    with io.open(CHILD, encoding="utf-8") as source:
        result = netns.run_in_netns(source.read(), RESOLV_CONF, args=(recipe, framework),
                                    timeout=150)
    report = result.report() if not result.timed_out else None
    assert report is not None and report["error"] is None, \
        "%s\n%s" % (result.describe(), "\n".join(report["outputs"]) if report else "")
    return report


def assert_greenfix_did_the_lookups(report, ports):
    answer = report["answer"]
    assert answer["patched"] is True, report
    assert answer["backend"] is not None, report
    assert answer["lookups"] >= 1, report      # the log host went through greenfix
    assert report["dns_queries"] >= 1, report
    for port in ports:
        assert report["received"][str(port)], (port, report)


@pytest.mark.parametrize("framework", ["eventlet", "gevent"])
def test_gunicorn(netns_required, framework):
    report = run_recipe("gunicorn", framework)
    assert_greenfix_did_the_lookups(report, [SYSLOG_PORT])
    assert any("request /" in text for text in report["received"][str(SYSLOG_PORT)])


@pytest.mark.parametrize("framework", ["eventlet", "gevent"])
def test_celery(netns_required, framework):
    report = run_recipe("celery", framework)
    assert_greenfix_did_the_lookups(report, [SYSLOG_PORT])
    assert any("task ran" in text for text in report["received"][str(SYSLOG_PORT)])


@pytest.mark.parametrize("framework", ["eventlet", "gevent"])
def test_flask_socketio(netns_required, framework):
    report = run_recipe("socketio", framework)
    assert report["answer"]["async_mode"] == framework
    assert_greenfix_did_the_lookups(report, [SYSLOG_PORT])


@pytest.mark.parametrize("framework", ["eventlet", "gevent"])
def test_logging_dictconfig(netns_required, framework):
    report = run_recipe("logging", framework)
    assert_greenfix_did_the_lookups(report, [SYSLOG_PORT, DATAGRAM_PORT, GELF_PORT])
    for port in (DATAGRAM_PORT, GELF_PORT):
        assert report["received"][str(port)] == ["started under %s" % framework]


def test_oslo_service(netns_required):
    report = run_recipe("oslo", "eventlet")
    assert_greenfix_did_the_lookups(report, [SYSLOG_PORT])
    assert any("audit tick" in text for text in report["received"][str(SYSLOG_PORT)])


def test_commands_are_the_pages():
    """Every command (and URL) the tests run is written, word for word, in
    docs/recipes.rst."""
    with io.open(DOCS_PAGE, encoding="utf-8") as page:
        text = page.read()
    missing = [command for commands in COMMANDS.values() for kind, command in commands
               if command not in text]
    assert not missing
