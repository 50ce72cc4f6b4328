"""The tests exercise the installed greenfix, in this process and in every
kind of child they start (``tests/children.py``): a module missing from the
package must fail them, which it would not if a child found ``greenfix/`` in
the source tree."""

from __future__ import absolute_import

import os

import pytest

import children
import greenfix
import netns

REPORT = "import os, greenfix; print(os.path.realpath(greenfix.__file__))\n"
SOURCE_TREE = os.path.join(os.path.realpath(children.REPO_ROOT), "greenfix")


def imported_here():
    return os.path.realpath(greenfix.__file__)


def test_this_process_imports_the_installed_greenfix():
    assert not imported_here().startswith(SOURCE_TREE + os.sep), imported_here()


@pytest.mark.parametrize("pythonpath", [None, "", children.REPO_ROOT],
                         ids=["unset", "current-directory", "repository-root"])
def test_python_c_children_import_the_same_greenfix(monkeypatch, pythonpath):
    """``python -c`` puts the current directory first on sys.path, and a
    caller's PYTHONPATH naming the repository root must not reach the child."""
    if pythonpath is None:
        monkeypatch.delenv("PYTHONPATH", raising=False)
    else:
        monkeypatch.setenv("PYTHONPATH", pythonpath)
    out = children.check_output(["-c", REPORT])
    assert out.decode().strip() == imported_here()


def test_script_children_import_the_same_greenfix(tmp_path):
    script = tmp_path / "report.py"
    script.write_text(u"import dnsserver\n" + REPORT)  # tests/ is on the path
    out = children.check_output([str(script)])
    assert out.decode().strip() == imported_here()


def test_namespace_children_import_the_same_greenfix(netns_required):
    result = netns.run_in_netns(
        "import os, greenfix, netns\n"
        "netns.emit(os.path.realpath(greenfix.__file__))\n", "nameserver 127.0.0.1\n")
    result.check()
    assert result.report() == imported_here()
