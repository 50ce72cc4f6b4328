# -*- coding: utf-8 -*-
"""How the tests start Python children: with the installed greenfix.

The tests run against the package tox built and installed (an sdist), so that
a module missing from the package fails them.  A child process must import
that same copy, never ``greenfix/`` of the source tree: it gets ``tests/`` on
``PYTHONPATH`` (for the helper modules: dnsserver, netns, heartbeat,
scenario...), never the repository root, and runs in ``tests/`` so that the
current directory that ``python -c`` puts first on ``sys.path`` holds no
``greenfix`` either.  ``tests/netns.py`` builds its children's environment
with :func:`child_env` too.  ``tests/test_children.py`` checks all of it.

``child_env(extra=None)``     a copy of ``os.environ`` with that PYTHONPATH
                              plus ``extra`` (value None: removed)
``popen(args, **kwargs)``     ``subprocess.Popen([sys.executable] + args)``
                              with that environment, in ``tests/``
``check_output(args, extra_env=None)``  its stdout (bytes); non-zero exit raises
``require_framework(name)``   skip a test whose children need gevent where it is
                              not installed (fail where tox.ini installs it)
"""

from __future__ import absolute_import

import os
import pkgutil
import subprocess
import sys

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(TESTS_DIR)


def _not_the_source_tree(entry):
    """False for a PYTHONPATH entry that would let a child import the source
    tree's greenfix: the repository root, or "" (the current directory)."""
    return entry != "" and os.path.realpath(entry) != os.path.realpath(REPO_ROOT)


def child_env(extra=None):
    """``os.environ`` plus PYTHONPATH = tests/ then the caller's entries other
    than the repository root, plus ``extra`` (a None value removes a key)."""
    env = dict(os.environ)
    inherited = env.get("PYTHONPATH", "").split(os.pathsep)
    env["PYTHONPATH"] = os.pathsep.join(
        [TESTS_DIR] + [entry for entry in inherited
                       if _not_the_source_tree(entry) and entry != TESTS_DIR])
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def popen(args, extra_env=None, **kwargs):
    """``python ARGS`` (this interpreter) in ``tests/`` with :func:`child_env`."""
    return subprocess.Popen([sys.executable] + list(args), env=child_env(extra_env),
                            cwd=TESTS_DIR, **kwargs)


def check_output(args, extra_env=None):
    """stdout (bytes) of ``python ARGS`` started by :func:`popen`;
    ``subprocess.CalledProcessError`` when it exits non-zero."""
    proc = popen(args, extra_env, stdout=subprocess.PIPE)
    out = proc.communicate()[0]
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, args, out)
    return out


def require_framework(framework):
    """Skip a test of ``framework`` ("eventlet" or "gevent") where it is not
    installed; fail instead where tox.ini installs it (gevent:
    GREENFIX_EXPECT_GEVENT=1).  Finds without importing: the framework must
    not enter this process."""
    import pytest
    if pkgutil.find_loader(framework) is not None:
        return
    if framework == "gevent" and os.environ.get("GREENFIX_EXPECT_GEVENT") == "1":
        pytest.fail("tox.ini installs gevent in this env, but it is missing")
    pytest.skip("%s is not installed in this tox env (tox.ini installs gevent in "
                "py27-eventlet033, py38, py311-eventletnewest and py313 only)" % framework)
