"""greenfix.watchdog and its pytest plugin.

Every scenario runs in a fresh interpreter (tests/watchdog_child.py) that
monkey-patches with one framework, so eventlet's and gevent's patching never
meet in one process.  gevent is installed only in the tox envs that list it
(tox.ini); elsewhere its cases skip, and where tox.ini promises it
(GREENFIX_EXPECT_GEVENT=1) a missing gevent fails.
"""

import json
import os
import subprocess
import sys
import threading

import pytest

import netns
from children import require_framework

pytest_plugins = ["pytester"]

HERE = os.path.dirname(os.path.abspath(__file__))
CHILD = os.path.join(HERE, "watchdog_child.py")
FRAMEWORKS = ["eventlet", "gevent"]
# the eventlet cases of the core tests also run under every eventlet hub
ALL_HUBS = [pytest.param("eventlet", marks=pytest.mark.hubs), "gevent"]


def child_env(extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([HERE, env.get("PYTHONPATH", "")])
    env.pop("GREENFIX_WATCHDOG", None)
    env.update(extra or {})
    return env


def run_child(framework, scenario, env=None):
    require_framework(framework)
    proc = subprocess.Popen([sys.executable, CHILD, framework, scenario],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=child_env(env), cwd=HERE)
    killer = threading.Timer(60, proc.kill)   # a deadlocked child fails, not hangs
    killer.start()
    try:
        out, err = proc.communicate()
    finally:
        killer.cancel()
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


def first_and_end(seen):
    """The one "so far" record and the one "in total" record, checked to be
    all there is (one report per block plus its end)."""
    so_far = [r for r in seen if "so far" in r["message"]]
    total = [r for r in seen if "in total" in r["message"]]
    assert len(so_far) == 1 and len(total) == 1 and len(seen) == 2, seen
    return so_far[0], total[0]


@pytest.mark.parametrize("framework", ALL_HUBS)
def test_report_arrives_while_time_sleep_blocks(framework):
    result, _ = run_child(framework, "time_sleep")
    returned = result["returned"]
    assert returned >= 0.29, result
    early, end = first_and_end(result["native"])
    # the native-locked handler has the report before the call returned
    assert early["at"] < returned - 0.1, result
    assert "original_time.sleep(0.3)" in early["message"], early
    assert "Traceback of the hub thread" in early["message"], early
    assert end["at"] >= returned and 0.2 < float(end["message"].split()[3]) < 0.5, end
    # the green-locked handler gets both from the hub, after the block
    green_early, green_end = first_and_end(result["green"])
    assert green_early["at"] >= returned and green_early["message"] == early["message"]
    # the callback: once while blocked, once with the total
    calls = result["callback"]
    assert [c["ended"] for c in calls] == [False, True], calls
    assert calls[0]["at"] < returned - 0.1 and calls[1]["duration"] > 0.2, calls
    stats = result["stats"]
    assert (stats["blocks"], stats["reported"]) == (1, 1), stats
    assert 0.2 < stats["worst"] < 0.5 and stats["worst_where"].startswith("block ("), stats


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stderr_gets_the_report_when_no_handler_can(framework):
    result, err = run_child(framework, "stderr_only")
    assert "greenfix.watchdog: hub blocked for" in err and "so far" in err, err
    assert "original_time.sleep(0.3)" in err and "in total" in err, err


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_green_lock_held_by_the_blocked_greenlet_does_not_deadlock(framework):
    """The blocked greenlet holds the green lock of a handler of the
    watchdog's own logger: the monitor must not wait for it, and the
    handler still gets both reports once the hub runs."""
    result, err = run_child(framework, "green_lock_held")
    assert result["lock_type"] == "_RLock"   # threading's Python RLock: green here
    early, end = first_and_end(result["green"])
    assert early["at"] >= result["returned"], result
    assert "so far" in err, err   # stderr had it while the block lasted


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_stop_leaves_no_thread(framework):
    result, _ = run_child(framework, "threads")
    assert result["running"] == result["before"] + 1, result
    assert result["after"] == result["before"] and not result["is_running"], result


@pytest.mark.slow
@pytest.mark.parametrize("framework", ALL_HUBS)
def test_no_block_context_manager(framework):
    result, _ = run_child(framework, "no_block")
    assert result["blocking"] is not None, result
    assert "original_time.sleep(0.2)" in result["blocking"], result
    assert "longer than 50 ms" in result["blocking"], result
    assert result["green"] == "passed"


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_idle_hub_reports_nothing(framework):
    result, _ = run_child(framework, "idle")
    assert result["stats"]["blocks"] == 0 and result["stats"]["running"], result
    assert result["native"] == [] and result["green"] == [], result


@pytest.mark.slow
def test_watchdog_without_monkey_patching():
    """eventlet imported, not monkey-patched: the hub runs only when the code
    yields; a plain time.sleep blocks it and is reported."""
    result, _ = run_child("eventlet-unpatched", "time_sleep")
    early, _ = first_and_end(result["native"])
    assert early["at"] < result["returned"] - 0.1, result


@pytest.mark.slow
def test_environment_variable_starts_it_at_patch():
    result, _ = run_child("eventlet", "environment", {"GREENFIX_WATCHDOG": "0.05"})
    assert result["patched"] and result["running"], result
    assert result["stats"]["threshold"] == 0.05 and result["stats"]["running"], result
    bad, _ = run_child("eventlet", "environment", {"GREENFIX_WATCHDOG": "soon"})
    assert "GREENFIX_WATCHDOG" in bad["error"], bad
    assert not bad["patched"] and not bad["running"], bad


RESOLV_CONF = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_report_arrives_while_sendto_resolves_a_blackholed_name(framework):
    """The original report's freeze, unpatched: libc waits for a DNS answer
    that never comes, the watchdog reports during the wait."""
    require_framework(framework)
    netns.require_netns()
    script = ("import sys\nsys.argv[1:] = [%r, 'sendto_name']\n"
              "exec(compile(open(%r).read(), %r, 'exec'))\n" % (framework, CHILD, CHILD))
    result = netns.run_in_netns(script, RESOLV_CONF, timeout=60, env={"GREENFIX_WATCHDOG": None})
    result.check()
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outcome"] == "gaierror" and report["queries"] >= 1, report
    assert report["returned"] >= 0.9, report
    early, end = first_and_end(report["native"])
    assert early["at"] < report["returned"] - 0.5, report
    assert 'sock.sendto(b"x", ("blackholed.example.test", 9))' in early["message"], early


# -- the pytest plugin, through pytester (testdir on pytest < 6.2) ----------------

SAMPLE = """
import time
from {framework}_originals import original_sleep, green_sleep

def test_blocks():
    original_sleep(0.3)

def test_yields():
    green_sleep(0.3)
"""

ORIGINALS = {
    "eventlet": """
import eventlet
eventlet.monkey_patch()
from eventlet.patcher import original
original_sleep = original("time").sleep
green_sleep = eventlet.sleep
""",
    "gevent": """
from gevent import monkey
monkey.patch_all()
import gevent
original_sleep = monkey.get_original("time", "sleep")
green_sleep = gevent.sleep
""",
}


@pytest.fixture
def tester(request):
    try:
        return request.getfixturevalue("pytester")
    except Exception:   # pytest < 6.2 (Python 2.7: pytest 4.6)
        return request.getfixturevalue("testdir")


def sample_suite(tester, framework, body=SAMPLE):
    require_framework(framework)
    tester.makepyfile(**{"%s_originals" % framework: ORIGINALS[framework]})
    tester.makeconftest("import %s_originals\n" % framework)
    tester.makepyfile(test_sample=body.format(framework=framework))


def run(tester, *args):
    result = tester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    return result, result.stdout.str()


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_plugin_fails_the_blocking_test_only(tester, framework):
    sample_suite(tester, framework)
    result, out = run(tester, "--greenfix-max-block=100")
    result.assert_outcomes(passed=1, failed=1)
    assert "test_blocks" in out, out
    assert "the hub was blocked longer than 100 ms" in out, out
    assert "original_sleep(0.3)" in out, out   # the blocking stack


@pytest.mark.slow
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_plugin_is_inert_unless_asked(tester, framework):
    sample_suite(tester, framework)
    result, out = run(tester)
    result.assert_outcomes(passed=2)
    assert "greenfix watchdog" not in out, out


@pytest.mark.slow
def test_plugin_imports_no_framework(tester):
    tester.makepyfile(test_plain="""
import sys

def test_nothing_imported():
    assert "greenfix.pytest_plugin" in sys.modules
    assert "eventlet" not in sys.modules and "gevent" not in sys.modules
""")
    result, out = run(tester, "--greenfix-max-block=50", "--greenfix-strict")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_plugin_marker_and_ini(tester):
    sample_suite(tester, "eventlet", SAMPLE + """
import pytest

@pytest.mark.greenfix_max_block(None)
def test_exempt():
    original_sleep(0.3)

@pytest.mark.greenfix_max_block(1000)
def test_generous():
    original_sleep(0.3)
""")
    tester.makeini("[pytest]\ngreenfix_max_block = 100\n")
    result, out = run(tester)
    result.assert_outcomes(passed=3, failed=1)
    assert "test_blocks" in out and "greenfix watchdog: max block 100 ms" in out, out


STRICT_SAMPLE = """
from {framework}_originals import original_socket

def test_name_reaches_libc():
    sock = original_socket(2, 2)
    sock.sendto(b"x", ("localhost", 9))

def test_numeric_address():
    sock = original_socket(2, 2)
    sock.sendto(b"x", ("127.0.0.1", 9))
"""


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(sys, "addaudithook"), reason="strict mode needs Python 3.8+")
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_plugin_strict_mode(tester, framework):
    require_framework(framework)
    sample_suite(tester, framework, STRICT_SAMPLE)
    extra = {"eventlet": 'original_socket = original("socket").socket\n',
             "gevent": 'original_socket = monkey.get_original("socket", "socket")\n'}
    tester.makepyfile(**{"%s_originals" % framework: ORIGINALS[framework] + extra[framework]})
    result, out = run(tester, "--greenfix-strict")
    result.assert_outcomes(passed=1, failed=1)
    assert "socket.sendto('localhost')" in out and "test_name_reaches_libc" in out, out


# -- the stub ----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.skipif(sys.version_info < (3,), reason="the stub is Python 3 syntax")
def test_stub_names_are_the_public_api():
    import ast
    from greenfix import watchdog
    with open(os.path.join(os.path.dirname(watchdog.__file__), "watchdog.pyi")) as handle:
        tree = ast.parse(handle.read())
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
    assert names - set(["_Stderr"]) == set(watchdog.__all__)


@pytest.mark.slow
@pytest.mark.skipif(sys.version_info < (3, 8), reason="mypy runs on Python 3.8+")
def test_mypy_accepts_good_watchdog_use_and_rejects_bad(tmp_path):
    import mypy_check
    out = mypy_check.check(
        tmp_path,
        good=(u"from greenfix import watchdog\n"
              u"ok: bool = watchdog.start(0.1, stderr='auto')\n"
              u"with watchdog.no_block(50) as dog:\n"
              u"    count: int = len(dog.blocks)\n"),
        bad=(u"from greenfix import watchdog\n"
             u"watchdog.start(treshold=0.1)\n"
             u"text: str = watchdog.stop()\n"))
    assert out.count("error:") == 2 and "treshold" in out, out
