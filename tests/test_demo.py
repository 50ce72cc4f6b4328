"""``python -m greenfix demo``, run as users run it, and its rows read back
(as root under every framework installed; the other ways of getting
namespaces, which do not depend on the framework, under eventlet only):
as root (``unshare -m -n``), without privileges (``unshare -r -m -n``: a root
without capabilities, and a real unprivileged user where one can run this
interpreter), and where namespaces cannot be had (it must say so and still
show the greenfix runs)."""

import os
import pkgutil
import re
import subprocess
import sys
import sysconfig

import pytest

from netns import require_netns

pytestmark = pytest.mark.slow   # each run of the demo takes some 18 s

INCIDENT_ROW = re.compile(r"^  (without greenfix|greenfix\.patch\(\))\s+(\d+)/(\d+)\s+(\d+)"
                          r"\s+(\d+) ms\s+([\d.]+) s", re.M)
SENDTO_ROW = re.compile(r"^  ((?:without greenfix|greenfix\.patch\(\)), DNS (?:lost|answers))"
                        r"\s+(\d+) ms\s+([\d.]+) s\s+(yes|no)", re.M)
#: A real unprivileged user: nobody (65534 on Debian and most others).
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
#: A root without capabilities: ``unshare -m -n`` is refused to it.
NO_CAPABILITIES = ["setpriv", "--inh-caps=-all", "--bounding-set=-all"]


def run_demo(prefix=(), python=sys.executable, env=None, framework=None):
    """The demo's output (stdout and stderr), run from a neutral directory;
    under every framework installed, or ``framework`` only."""
    environment = dict(os.environ, HOME="/tmp", **(env or {}))
    only = ["--framework", framework] if framework else []
    child = subprocess.Popen(list(prefix) + [python, "-m", "greenfix", "demo"] + only,
                             cwd="/", env=environment, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    out = child.communicate()[0].decode("utf-8")
    assert child.returncode == 0, out
    return out


def incident_rows(out):
    """Scene 2's rows by case: (delivered, due, lost, frozen ms, took s)."""
    return dict((match.group(1), (int(match.group(2)), int(match.group(3)),
                                  int(match.group(4)), int(match.group(5)),
                                  float(match.group(6))))
                for match in INCIDENT_ROW.finditer(out))


def sections(out, framework=None):
    """The demo's output per framework ("== under eventlet ==" onwards); it
    must show every framework installed here (or ``framework`` only)."""
    parts = re.split(r"^== under (\w+) ==$", out, flags=re.M)
    found = dict(zip(parts[1::2], parts[2::2]))
    installed = [name for name in ("eventlet", "gevent")
                 if pkgutil.find_loader(name) and framework in (None, name)]
    assert sorted(found) == installed, out
    return found


def assert_incident_shown(out, framework=None):
    for section in sections(out, framework).values():
        assert_scenes_shown(section)
    assert "Not shown" not in out, out


def assert_scenes_shown(out):
    rows = incident_rows(out)
    assert sorted(rows) == ["greenfix.patch()", "without greenfix"], out
    delivered, due, lost, frozen, _ = rows["without greenfix"]
    assert delivered < due and lost == due - delivered and frozen >= 900, out
    delivered, due, lost, frozen, _ = rows["greenfix.patch()"]
    assert delivered == due == 40 and lost == 0 and frozen < 500, out
    # the progress line while each run goes on (once a second off a terminal)
    for label in ("without greenfix", "greenfix.patch()"):
        assert len(re.findall(r"^  \.\.\. %s " % re.escape(label), out, re.M)) >= 3, out
    assert len(re.findall(r"^  \.\.\. without greenfix .* DNS dark", out, re.M)) >= 1, out
    sendto = dict((match.group(1), match.groups()[1:]) for match in SENDTO_ROW.finditer(out))
    assert int(sendto["without greenfix, DNS lost"][0]) >= 900, out
    assert int(sendto["greenfix.patch(), DNS lost"][0]) < 500, out
    assert [sendto[key][2] for key in sorted(sendto)] == ["yes", "no", "yes", "no"], out


def userns_works(prefix):
    """Whether ``unshare -r -m -n`` works for that user, asked directly."""
    return subprocess.call(list(prefix) + ["unshare", "-r", "-m", "-n", "true"],
                           stderr=open(os.devnull, "w")) == 0


def test_incident_as_root():
    require_netns()
    out = run_demo()
    assert "libc runs: private namespaces (unshare -m -n)" in out, out
    assert_incident_shown(out)


def test_incident_without_capabilities():
    require_netns()  # root here: setpriv can drop every capability
    if not userns_works(NO_CAPABILITIES):
        out = run_demo(NO_CAPABILITIES, framework="eventlet")
        assert "Not shown: the runs without greenfix" in out and "unshare -r" in out, out
        return
    out = run_demo(NO_CAPABILITIES, framework="eventlet")
    assert "libc runs: a user namespace (unshare -r -m -n), unprivileged" in out, out
    assert_incident_shown(out, "eventlet")


def _python_for_nobody():
    """An interpreter nobody may run with this environment's packages: this
    one, or the system's of the same version; None if neither."""
    if os.geteuid() != 0:
        return None
    version = "python%d.%d" % sys.version_info[:2]
    check = "import sys; sys.exit(sys.version_info[:2] != %r)" % (sys.version_info[:2],)
    for python in (sys.executable, "/usr/bin/" + version):
        # and from inside its user namespace, where the mapped root may not
        # reach what nobody reaches outside
        if all(subprocess.call(NOBODY + inside + [python, "-c", check],
                               stdout=open(os.devnull, "w"), stderr=subprocess.STDOUT) == 0
               for inside in ([], ["unshare", "-r"])):
            return python
    return None


NOBODY_PYTHON = _python_for_nobody()


def _incident_as_an_unprivileged_user(python=NOBODY_PYTHON):
    packages = os.pathsep.join(sorted(set([sysconfig.get_paths()["purelib"],
                                           sysconfig.get_paths()["platlib"]])))
    out = run_demo(NOBODY, python, env={"PYTHONPATH": packages}, framework="eventlet")
    if not userns_works(NOBODY):
        assert "Not shown: the runs without greenfix" in out, out
        return
    assert "libc runs: a user namespace (unshare -r -m -n), unprivileged" in out, out
    assert_incident_shown(out, "eventlet")


# Only where nobody can run this interpreter (here: the system's Python 3.11
# for the py311 environments); elsewhere test_incident_without_capabilities
# covers the unprivileged namespaces.
if NOBODY_PYTHON:
    test_incident_as_an_unprivileged_user = _incident_as_an_unprivileged_user


def test_without_namespaces_it_says_so_and_shows_greenfix(tmp_path):
    out = run_demo(env={"PATH": str(tmp_path)}, framework="eventlet")  # no unshare found
    assert "libc runs: not shown (no private namespaces)" in out, out
    assert "refused: unshare, ip, mount not found on PATH" in out, out
    for section in sections(out, "eventlet").values():
        rows = incident_rows(section)
        assert sorted(rows) == ["greenfix.patch()"], out
        delivered, due, lost, frozen, _ = rows["greenfix.patch()"]
        assert delivered == due and lost == 0 and frozen < 500, out
        assert section.count("not shown: no private namespaces (see below)") == 3, out
