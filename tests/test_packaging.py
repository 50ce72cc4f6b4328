"""What an installed greenfix offers besides patch(): ``greenfix --version``
(console script and ``python -m greenfix``), project URLs in its metadata,
and ``stats()``, ``--help`` and ``--version`` without importing eventlet
(whose import warns, and whose warning would name greenfix's file)."""

import os
import subprocess
import sys

import pytest

import greenfix


def run_python(args, cwd):
    """Output of the installed greenfix's interpreter, run outside the
    source tree (so ./greenfix is not what it imports)."""
    out = subprocess.check_output([sys.executable] + args, cwd=str(cwd),
                                  stderr=subprocess.STDOUT)
    return out.decode("utf-8")


def test_version_from_python_m_and_the_console_script(tmp_path):
    expected = "greenfix %s" % greenfix.__version__
    assert run_python(["-m", "greenfix", "--version"], tmp_path).strip() == expected
    script = os.path.join(os.path.dirname(sys.executable), "greenfix")
    assert os.path.exists(script), "no console script next to %s" % sys.executable
    out = subprocess.check_output([script, "--version"], cwd=str(tmp_path))
    assert out.decode("utf-8").strip() == expected


NO_EVENTLET = [
    "import greenfix; greenfix.stats()",
    "from greenfix import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass",
    "from greenfix import cli\ntry:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass",
]


@pytest.mark.parametrize("code", NO_EVENTLET, ids=["stats", "help", "version"])
def test_does_not_import_eventlet(tmp_path, code):
    check = ("\nimport os, sys\nassert os.path.dirname(greenfix.__file__) != %r\n"
             "print('eventlet imported' if 'eventlet' in sys.modules else 'no eventlet')\n"
             % (os.path.join(os.getcwd(), "greenfix"),))
    out = run_python(["-c", "import greenfix\n" + code + check], tmp_path)
    assert out.strip().splitlines()[-1] == "no eventlet", out


def _project_urls():
    """The installed distribution's ``Project-URL`` values."""
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        import pkg_resources
        dist = pkg_resources.get_distribution("greenfix")
        name = "METADATA" if dist.has_metadata("METADATA") else "PKG-INFO"
        return [line.split(": ", 1)[1] for line in dist.get_metadata(name).splitlines()
                if line.startswith("Project-URL: ")]
    return metadata.metadata("greenfix").get_all("Project-URL") or []


def test_project_urls_in_the_installed_metadata():
    urls = dict(value.split(", ", 1) for value in _project_urls())
    assert sorted(urls) == ["Documentation", "Issues", "Source"], urls
    assert all(url.startswith("https://") for url in urls.values()), urls
