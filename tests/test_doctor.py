"""``greenfix doctor``: its figures against glibc's budget (REFERENCE.md's
and a measurement in the namespace harness), its findings against a known
resolv.conf / hosts file / nsswitch.conf, its exit codes, and the report
inside eventlet- and gevent-monkey-patched processes."""

import ctypes
import json
import os
import pkgutil
import subprocess
import sys
import textwrap

import pytest

import children
import netns
from greenfix import doctor
from greenfix.resolvers import resolvconf

needs_netns = pytest.mark.usefixtures("netns_required")


def conf_of(text, **environ):
    return resolvconf.parse(text, environ)


# -- the budget, as a pure function ----------------------------------------

def test_budget_of_the_original_report():
    # REFERENCE.md: 2 nameservers x 2 attempts x 5 s x 2 = 40 s; the second
    # query is the search domain's, after the name as it is.
    conf = conf_of("nameserver 192.0.2.1\nnameserver 192.0.2.2\nsearch corp.test\n")
    cost = doctor.lost_lookup(conf, b"elk.example.com")
    assert cost["queries"] == ["elk.example.com", "elk.example.com.corp.test"]
    assert (cost["seconds_per_query"], cost["seconds"], cost["one_lost_reply"]) == (20, 40, 5)


def test_budget_of_glibc_defaults_and_of_the_measured_table():
    assert doctor.lost_lookup(conf_of("nameserver 192.0.2.1\n"), b"a.example.")["seconds"] == 10
    measured = conf_of("nameserver 192.0.2.1\noptions timeout:1 attempts:2\n")
    assert doctor.lost_lookup(measured, b"a.example.")["seconds"] == 2


def test_budget_follows_send_dg_waits_and_the_environment():
    # server i > 0 waits (timeout << i) / count: 5 + 10/3 + 20/3 -> 5 + 3 + 6
    three = "nameserver 192.0.2.1\nnameserver 192.0.2.2\nnameserver 192.0.2.3\n"
    assert doctor.lost_lookup(conf_of(three), b"x.")["seconds_per_query"] == 28
    overridden = conf_of(three + "search a.test\n", RES_OPTIONS="attempts:1 ndots:2 rotate",
                         LOCALDOMAIN="l1.test l2.test")
    cost = doctor.lost_lookup(overridden, b"x.y")
    assert cost["queries"] == ["x.y.l1.test", "x.y"]
    assert (cost["seconds"], cost["one_lost_reply"]) == (28, 6)


def test_use_vc_is_not_costed():
    conf = conf_of("nameserver 192.0.2.1\noptions use-vc\n")
    assert doctor.lost_lookup(conf, b"x.")["seconds"] is None


# -- the budget against libc, every reply dropped ----------------------------

MEASURE = textwrap.dedent("""
    import json, os, socket, subprocess, sys, time
    import netns
    from dnsserver import DNSServer
    servers = [DNSServer(host="127.0.0.%d" % i, port=53).start() for i in (1, 2, 3)]
    for server in servers:
        server.set_behavior("drop")
    CHILD = '''
    import json, socket, sys, time
    from greenfix import doctor
    from greenfix.resolvers import resolvconf
    conf = resolvconf.parse(open("/etc/resolv.conf").read())
    cost = doctor.lost_lookup(conf, sys.argv[1].encode())
    start = time.time()
    try:
        socket.getaddrinfo(sys.argv[1], None, int(sys.argv[2]))
    except socket.gaierror:
        pass
    cost["measured"] = time.time() - start
    print(json.dumps(cost))
    '''
    for name, family, environ in json.loads(sys.argv[1]):
        for server in servers:
            server.clear_log()
        out = subprocess.check_output([sys.executable, "-c", CHILD, name, str(family)],
                                      env=dict(os.environ, **environ))
        cost = json.loads(out.decode())
        cost["seen"] = [query.name for query in servers[0].queries]
        netns.emit(cost)
""")


def collapse(names):
    return [name for i, name in enumerate(names) if i == 0 or names[i - 1] != name]


@needs_netns
@pytest.mark.parametrize("resolv_conf, cases", [
    ("nameserver 127.0.0.1\nsearch s1.test s2.test\noptions timeout:1 attempts:2\n",
     [("lost.example.test", 2, {}), ("lost.example.test.", 0, {}),
      ("lost", 0, {"RES_OPTIONS": "attempts:1", "LOCALDOMAIN": "l1.test"})]),
    ("nameserver 127.0.0.1\nnameserver 127.0.0.2\nnameserver 127.0.0.3\n"
     "options timeout:2 attempts:1\n",
     [("lost.example.test.", 2, {}), ("a.b.c", 0, {"RES_OPTIONS": "ndots:4 single-request",
                                                   "LOCALDOMAIN": "l1.test"})]),
], ids=["one-server-search", "three-servers"])
def test_budget_matches_libc_when_dns_is_dark(resolv_conf, cases):
    result = netns.run_in_netns(MEASURE, resolv_conf, args=[json.dumps(cases)], timeout=120)
    result.check()
    costs = result.reports()
    assert len(costs) == len(cases), result.describe()
    for cost in costs:
        # what the first server saw is what the doctor planned, in order
        # (without rotate every query starts there; each try, and A and
        # AAAA, repeat a name)
        assert collapse(cost["seen"]) == [name.rstrip(".") for name in cost["queries"]], cost
        assert cost["seconds"] - 0.1 <= cost["measured"] <= cost["seconds"] * 1.1 + 0.5, cost


# -- the report's findings against a known machine ---------------------------

RESOLV_CONF = ("nameserver 127.0.0.1\nnameserver 127.0.0.2\nsearch s1.test s2.test\n"
               "options ndots:2 timeout:3 attempts:4 rotate\n")
HOSTS = ("127.0.0.1 localhost\n::1 localhost ip6-localhost\n# 10.0.0.9 commented.test\n"
         "10.0.0.1 one.test one\n127.1 not-read.test\nfe80::1%lo scoped.test\n"
         "10.0.0.2 two.test\n")
DOCTOR = textwrap.dedent("""
    import json, os, subprocess, sys
    import netns
    for environ in json.loads(sys.argv[1]):
        proc = subprocess.Popen([sys.executable, "-m", "greenfix", "doctor", "--json"],
                                stdout=subprocess.PIPE, env=dict(os.environ, **environ))
        out = proc.communicate()[0]
        netns.emit({"returncode": proc.returncode, "report": json.loads(out.decode())})
""")


def doctor_in_netns(environs, nsswitch="hosts: files dns\n"):
    result = netns.run_in_netns(DOCTOR, RESOLV_CONF, hosts_text=HOSTS, nsswitch_text=nsswitch,
                                args=[json.dumps(environs)],
                                env={"RES_OPTIONS": None, "LOCALDOMAIN": None,
                                     "GREENFIX_RESOLVER": None, "EVENTLET_NO_GREENDNS": None})
    result.check()
    return result.reports()


@needs_netns
def test_findings_match_the_files_and_the_environment():
    plain, overridden = doctor_in_netns(
        [{}, {"RES_OPTIONS": "timeout:1 attempts:1 ndots:1", "LOCALDOMAIN": "l1.test"}])
    assert plain["returncode"] == overridden["returncode"] == 0
    conf = plain["report"]["resolv_conf"]
    assert (conf["nameservers"], conf["search"]) == (["127.0.0.1", "127.0.0.2"],
                                                     ["s1.test", "s2.test"])
    assert (conf["ndots"], conf["timeout"], conf["attempts"], conf["rotate"]) == (2, 3, 4, True)
    # 4 attempts x (3 s + (3 << 1) / 2 s), for the name as it is and s1.test
    assert conf["lost_lookup"]["seconds"] == 48
    assert "cost 3 s per lookup" in plain["report"]["advice"][0]
    assert "48 s" in plain["report"]["advice"][0]
    conf = overridden["report"]["resolv_conf"]
    assert (conf["search"], conf["ndots"], conf["timeout"], conf["attempts"]) == (
        ["l1.test"], 1, 1, 1)
    assert conf["environment"] == {"RES_OPTIONS": "timeout:1 attempts:1 ndots:1",
                                   "LOCALDOMAIN": "l1.test"}
    assert conf["lost_lookup"]["queries"] == ["logs.example.com", "logs.example.com.l1.test"]
    assert conf["lost_lookup"]["seconds"] == 4
    hosts = plain["report"]["hosts"]
    assert (hosts["entries"], hosts["names"]) == (4, 5)
    assert "4 entries" in plain["report"]["advice"][-1]


@needs_netns
@pytest.mark.parametrize("nsswitch, kind, reason, no_dns", [
    ("hosts: files dns\n", "auto", None, False),
    ("hosts: files mdns4_minimal [NOTFOUND=return] dns\n", "auto", "nsswitch.conf", False),
    ("hosts: files\n", "auto", None, True),
    ("# no hosts line\n", "auto", "nsswitch.conf", False),
])
def test_nsswitch_variants_and_the_backend(nsswitch, kind, reason, no_dns):
    (outcome,) = doctor_in_netns([{}], nsswitch)
    report = outcome["report"]
    backend = report["backend"]
    assert backend["kind"] == kind
    if reason is None:
        assert backend["libc_reason"] is None
    else:
        assert reason in backend["libc_reason"]
        assert any(backend["libc_reason"] in text for text in report["advice"])
    assert any("no dns source" in text for text in report["advice"]) == no_dns
    (with_switch,) = doctor_in_netns([{"EVENTLET_NO_GREENDNS": "yes"}], nsswitch)
    assert with_switch["report"]["backend"]["kind"] == "threadpool"
    assert with_switch["returncode"] == 0


# -- exit codes, imports, patched processes ----------------------------------

def run_doctor(args, extra_env=None):
    proc = children.popen(["-m", "greenfix", "doctor"] + args, extra_env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    return proc.returncode, out.decode("utf-8"), err.decode("utf-8")


def test_exit_code_0_and_json_and_text():
    code, out, err = run_doctor(["--json"])
    report = json.loads(out)
    assert (code, report["problems"]) == (0, []), err
    code, text, err = run_doctor([])
    assert code == 0, err
    assert text.splitlines()[0].startswith("versions: python %s" % report["versions"]["python"])
    assert "advice: " + report["advice"][0] in text


def test_exit_code_1_for_a_refused_resolver_variable():
    code, out, err = run_doctor(["--json"], {"GREENFIX_RESOLVER": "bogus"})
    problems = json.loads(out)["problems"]
    assert code == 1 and len(problems) == 1 and "GREENFIX_RESOLVER" in problems[0], out
    code, out, err = run_doctor([], {"GREENFIX_RESOLVER": "bogus"})
    assert code == 1 and "BROKEN: " in out


def test_exit_code_1_when_dnspython_cannot_be_imported(tmp_path):
    (tmp_path / "dns").mkdir()
    (tmp_path / "dns" / "__init__.py").write_text(u"raise ImportError('broken extra')\n")
    path = os.pathsep.join([str(tmp_path), children.child_env()["PYTHONPATH"]])
    code, out, err = run_doctor(["--json"], {"PYTHONPATH": path, "EVENTLET_NO_GREENDNS": None})
    report = json.loads(out)
    assert code == 1 and "broken extra" in report["problems"][0], out
    assert report["backend"]["kind"] == "threadpool"
    # switched off on purpose: nothing is broken
    code, out, err = run_doctor(["--json"], {"PYTHONPATH": path, "EVENTLET_NO_GREENDNS": "yes"})
    assert code == 0, out


def test_glibc_version_is_the_running_one():
    libc = ctypes.CDLL(None).gnu_get_libc_version
    libc.restype = ctypes.c_char_p
    assert doctor.glibc_version() == libc().decode("ascii")


def test_read_file_tells_missing_from_unreadable(tmp_path):
    assert doctor.read_file(str(tmp_path / "missing")) == ("", None)
    text, error = doctor.read_file(str(tmp_path))   # a directory: EISDIR
    assert text == "" and error.startswith(str(tmp_path))
    report = {"resolv_conf": {"error": error}, "nsswitch": {"error": None},
              "hosts": {"error": None}, "options_error": None,
              "backend": {"error": None, "greendns_unavailable": None}}
    assert doctor.problems(report) == [error]


def test_the_cli_imports_no_framework():
    code = ("import sys\nfrom greenfix import cli\nrc = cli.main(['doctor', '--resolve', "
            "'localhost'])\nsys.stdout.write('%s %s\\n' % (rc, sorted(set(sys.modules) & "
            "set(['eventlet', 'gevent']))))\n")
    out = children.check_output(["-c", code]).decode("utf-8")
    assert out.strip().splitlines()[-1] == "0 []", out


def require(framework):
    if framework != "gevent" or pkgutil.find_loader("gevent") is not None:
        return
    if os.environ.get("GREENFIX_EXPECT_GEVENT") == "1":
        pytest.fail("tox.ini installs gevent in this env, but it is missing")
    pytest.skip("gevent is not installed in this tox env")


MONKEY = {"eventlet": "import eventlet; eventlet.monkey_patch()",
          "gevent": "from gevent import monkey; monkey.patch_all()"}
INSIDE = textwrap.dedent("""
    import json, warnings
    warnings.simplefilter("ignore")
    %s
    import greenfix
    from greenfix import doctor
    before = doctor.report()
    greenfix.patch()
    after = doctor.report(resolve="localhost")
    print(json.dumps([before, after]))
""")


@pytest.mark.parametrize("framework", ["eventlet", "gevent"])
def test_report_inside_a_monkey_patched_process(framework):
    require(framework)
    out = children.check_output(["-c", INSIDE % MONKEY[framework]])
    before, after = json.loads(out.decode("utf-8").strip().splitlines()[-1])
    for report in (before, after):
        assert report["framework"]["detected"] == framework
        assert report["framework"]["monkey_patched"][framework] is True
        assert report["problems"] == []
    assert (before["framework"]["greenfix_patched"], after["framework"]["greenfix_patched"]) \
        == (False, True)
    assert "greenfix is not active" in " ".join(before["advice"])
    assert "greenfix is active" in " ".join(after["advice"])
    rows = dict(((row["family"], row["backend"]), row["answer"])
                for row in after["resolve"]["results"])
    assert rows[("AF_INET", "libc")] == "127.0.0.1"
    assert rows[("AF_INET", "greendns")] == rows[("AF_INET", "threadpool")] == "127.0.0.1"


def test_the_stub_types_report(tmp_path):
    import mypy_check
    out = mypy_check.check(
        tmp_path,
        "from greenfix import doctor\nresult = doctor.report(resolve='localhost')\n"
        "text: str = doctor.format_text(result)\ncode: int = len(doctor.problems(result))\n",
        "from greenfix import doctor\ndoctor.report(resolve=1)\n")
    assert "report" in out, out
