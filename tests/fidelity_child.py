# -*- coding: utf-8 -*-
"""The resolver-fidelity child: runs inside the namespace harness.

``tests/test_fidelity.py`` starts this script with :func:`netns.run_in_netns`
(``python fidelity_child.py '<json config>'``).  Inside the namespace
/etc/resolv.conf, /etc/hosts and /etc/nsswitch.conf are private bind-mounted
copies, so libc and greenfix read the same files; this script rewrites them
between cases (both glibc and greenfix notice a changed file on the next
lookup).  It also gives itself a private UTS namespace with the host name
``fidelity`` (no dot, so no search domain comes from the host name unless a
case sets one) and bind-mounts a ``host.conf`` with ``multi on``.

Every case looks names up twice, each time right after the DNS servers'
behaviour (and the seed of a ``drop_fraction`` rule) has been set afresh:

``libc``
    the original ``getaddrinfo(name, None, family)`` of the C socket module,
    the call CPython's ``setipaddr()`` makes;
``greenfix``
    ``connect((name, 9))`` on a green UDP socket after
    ``eventlet.monkey_patch()`` and ``greenfix.patch()`` (default options,
    except that the answer cache, when greenfix has one, is turned off:
    every lookup must really query), then ``getpeername()``; a 1 ms green
    heartbeat measures how long the hub was kept from running.

and emits one JSON report per case (see :func:`_report`): the outcome of each
lookup (address or gaierror errno) and its duration, the queries the DNS
servers saw during each side, and the worst heartbeat gap.

Config: ``{"suite": name}``; suites are the ``suite_*`` functions.
"""

from __future__ import absolute_import, print_function

import ctypes
import ctypes.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import warnings


import socket  # green once main() has called eventlet.monkey_patch()

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import eventlet
    from eventlet import patcher

from heartbeat import Heartbeat, clock, run_queue_wait  # noqa: E402

_c_socket = patcher.original("socket")
_real_sleep = patcher.original("time").sleep

#: Set by main(): whether the private host name could be set.
HOSTNAME_OK = False


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _private_hostname(name):
    """A private UTS namespace with host name ``name`` (glibc derives the
    default search domain from it)."""
    if _libc().unshare(0x04000000) != 0:  # CLONE_NEWUTS
        return False
    return _set_hostname(name)


def _set_hostname(name):
    raw = name.encode("ascii")
    return _libc().sethostname(raw, len(raw)) == 0


FAMILIES = {"inet": socket.AF_INET, "inet6": socket.AF_INET6}

#: Seconds of the hub heartbeat.
BEAT = 0.001

ZONE = "fault.test"


# ---------------------------------------------------------------- plumbing

def write_file(path, text):
    """Rewrite ``path`` in place (it is a bind-mounted private copy).

    glibc and greenfix notice a change by the file's size, inode and times;
    the kernel's file times are coarse (a few ms), so wait a little first,
    so that two rewrites never share a timestamp."""
    _real_sleep(0.02)
    with open(path, "w") as handle:
        handle.write(text)


def replace_file(path, text):
    """Make ``path`` a new file (new inode): bind-mount a fresh copy over it
    (a rename onto a mount point is refused)."""
    _real_sleep(0.02)
    handle, fresh = tempfile.mkstemp(prefix="fidelity-")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.chmod(fresh, 0o644)
    subprocess.check_call(["mount", "--bind", fresh, path])


def libc_lookup(name, family):
    wait = run_queue_wait.process()
    start = clock()
    try:
        infos = _c_socket.getaddrinfo(name, None, family)
        outcome = {"ok": True, "address": infos[0][4][0]}
    except _c_socket.gaierror as exc:
        outcome = {"ok": False, "errno": exc.args[0]}
    outcome["time"] = clock() - start
    outcome["cpu_wait"] = run_queue_wait.process() - wait
    return outcome


def green_lookup(name, family):
    """-> (outcome, worst hub gap during the call, net of CPU waits)."""
    sock = socket.socket(family, socket.SOCK_DGRAM)
    process_wait = run_queue_wait.process()
    with Heartbeat(BEAT) as beat:
        try:
            sock.connect((name, 9))
            outcome = {"ok": True, "address": sock.getpeername()[0]}
        except socket.gaierror as exc:
            outcome = {"ok": False, "errno": exc.args[0]}
        except Exception as exc:  # never expected: recorded, so the test fails
            outcome = {"ok": False, "exception": "%s: %s" % (type(exc).__name__, exc)}
    outcome["time"] = beat.duration
    outcome["cpu_wait"] = run_queue_wait.process() - process_wait
    outcome["raw_gap"] = beat.gap
    sock.close()
    return outcome, beat.net_gap


class Servers(object):
    """The test DNS servers: 127.0.0.1:53 and 127.0.0.2:53."""

    def __init__(self):
        self.all = [DNSServer(port=53).start(), DNSServer("127.0.0.2", port=53).start()]
        self.main = self.all[0]

    def reset(self):
        for server in self.all:
            server.clear_records()
            server.reset_behaviors()
            server.clear_log()

    def clear_log(self):
        for server in self.all:
            server.clear_log()

    def log(self):
        """Every query any server saw, in arrival order:
        ``[server index, transport, name, type]``."""
        merged = []
        for index, server in enumerate(self.all):
            merged.extend((q.time, index, q.transport, q.name, q.rdtype)
                          for q in server.queries)
        return [list(entry[1:]) for entry in sorted(merged)]

    def stop(self):
        for server in self.all:
            server.stop()


class Case(object):
    """One row of a suite.

    ``names``: the host names looked up (each once per side); ``family``;
    ``resolv``: the resolv.conf text (None: leave it); ``setup(servers)``:
    records and behaviours, run afresh before each side; ``settle``: seconds
    to wait after a side (for delayed replies still scheduled); ``hosts``,
    ``nsswitch``: file texts (None: leave them); ``env``: environment
    variables set for the case."""

    def __init__(self, name, names, family="inet", resolv=None, setup=None, settle=0.0,
                 hosts=None, nsswitch=None, env=None, before_side=None):
        self.name = name
        self.names = names
        self.family = family
        self.resolv = resolv
        self.setup = setup
        self.settle = settle
        self.hosts = hosts
        self.nsswitch = nsswitch
        self.env = env or {}
        self.before_side = before_side


def run_case(servers, case, spy=None):
    if case.resolv is not None:
        write_file("/etc/resolv.conf", case.resolv)
    if case.hosts is not None:
        write_file("/etc/hosts", case.hosts)
    if case.nsswitch is not None:
        write_file("/etc/nsswitch.conf", case.nsswitch)
    family = FAMILIES[case.family]
    report = {"case": case.name, "family": case.family, "names": case.names}
    for side in ("libc", "greenfix"):
        servers.reset()
        if case.setup is not None:
            case.setup(servers)
        if case.before_side is not None:
            case.before_side(side)
        if spy is not None:
            spy.reset()
        outcomes, gaps = [], []
        for name in case.names:
            if side == "libc":
                outcomes.append(libc_lookup(name, family))
            else:
                outcome, gap = green_lookup(name, family)
                outcomes.append(outcome)
                gaps.append(gap)
        report[side] = outcomes
        report[side + "_log"] = servers.log()
        if side == "greenfix":
            report["gap"] = max(gaps) if gaps else 0.0
            if spy is not None:
                report["backends"] = spy.counts()
        if case.settle:
            _real_sleep(case.settle)
    netns.emit(report)
    return report


def patch_greenfix():
    """greenfix.patch() with the default options, the cache (if greenfix has
    one by now) turned off so that every lookup really queries."""
    options = {}
    if "cache_size" in getattr(greenfix_options, "_DEFAULTS", {}):
        options["cache_size"] = 0
    greenfix.patch(**options)


def a(name, address, ttl=60):
    def setup(servers):
        servers.main.add(name, "A", address, ttl=ttl)
    return setup


def chain(*setups):
    def setup(servers):
        for step in setups:
            step(servers)
    return setup


def soa(servers):
    for server in servers.all:
        server.add_soa(ZONE, minimum=30)


def behave(kind, server=0, name=None, rdtype=None, **params):
    def setup(servers):
        servers.all[server].set_behavior(kind, name=name, rdtype=rdtype, **params)
    return setup


def records(server=None, **params):
    """A and AAAA records for names on every server (or one)."""
    def setup(servers):
        targets = servers.all if server is None else [servers.all[server]]
        for target in targets:
            for name, (rdtype, value) in sorted(params["data"].items()):
                target.add(name, rdtype, value)
    return setup


def many(prefix, count, first_octet=10):
    names = ["%s-%02d.%s" % (prefix, i, ZONE) for i in range(count)]
    data = dict((n, ("A", "127.0.%d.%d" % (first_octet, i + 1))) for i, n in enumerate(names))
    return names, data


# ------------------------------------------------------------ fault matrix

ONE_NS = "nameserver 127.0.0.1\noptions timeout:1 attempts:2\n"
TWO_NS = "nameserver 127.0.0.1\nnameserver 127.0.0.2\noptions timeout:1 attempts:2\n"


def _custom_undersized(query, transport):
    return b"\x00\x01\x81\x80"


def _custom_cname_only(query, transport):
    import dns.message
    import dns.rrset
    response = dns.message.make_response(query)
    response.flags |= 0x0400 | 0x0080  # AA | RA
    qname = query.question[0].name
    response.answer.append(dns.rrset.from_text(qname, 60, "IN", "CNAME", "nowhere.fault.test."))
    return response.to_wire()


def _custom_servfail_tcp(query, transport):
    import dns.flags
    import dns.message
    import dns.rcode
    response = dns.message.make_response(query)
    response.flags |= dns.flags.RA
    if transport == "udp":
        response.flags |= dns.flags.TC
    else:
        response.set_rcode(dns.rcode.SERVFAIL)
    return response.to_wire()


def _custom_referral(query, transport):
    import dns.message
    response = dns.message.make_response(query)
    response.flags &= ~0x0080  # no RA, no AA, empty sections: a referral-like reply
    return response.to_wire()


def _custom_formerr(query, transport):
    import dns.message
    import dns.rcode
    response = dns.message.make_response(query)
    response.flags |= 0x0080
    response.set_rcode(dns.rcode.FORMERR)
    return response.to_wire()


def _cname_cases(family):
    rdtype, other = ("A", "AAAA") if family == "inet" else ("AAAA", "A")
    value = {"A": "127.0.22.1", "AAAA": "::1"}
    names = dict((label, "%s-%s.%s" % (label, family, ZONE))
                 for label in ("dangling", "chain", "nodata", "target", "v-other"))

    def setup(servers):
        server = servers.main
        server.add(names["dangling"], "CNAME", "gone-%s.%s" % (family, ZONE))
        server.add(names["chain"], "CNAME", names["target"])
        server.add(names["target"], rdtype, value[rdtype])
        server.add(names["nodata"], "CNAME", names["v-other"])
        server.add(names["v-other"], other, value[other])
    return [Case("cname-%s-%s" % (label, family), [names[label]], family=family,
                 resolv=ONE_NS, setup=chain(soa, setup))
            for label in ("dangling", "chain", "nodata")]


def fault_cases():
    cases = []
    for label, fraction, count, seed in (("loss-0", 0.0, 10, 1), ("loss-1", 0.01, 40, 1),
                                         ("loss-30", 0.3, 10, 1), ("loss-100", 1.0, 2, 0)):
        names, data = many(label, count)
        cases.append(Case(label, names, resolv=ONE_NS, setup=chain(
            soa, records(data=data), behave("drop_fraction", fraction=fraction, seed=seed))))
    names, data = many("loss-100-v6", 1)
    cases.append(Case("loss-100-inet6", names, family="inet6", resolv=ONE_NS,
                      setup=chain(soa, records(data=data), behave("drop"))))
    simple = [
        ("servfail", "servfail", {}),
        ("refused", "refused", {}),
        ("nxdomain", "nxdomain", {}),
        ("truncated-udp", "truncate", {}),
        ("delayed-1.5s", "delay", {"seconds": 1.5}),
        ("delayed-3s", "delay", {"seconds": 3.0}),
        ("wrong-id", "wrong_id", {}),
        ("wrong-question", "wrong_question", {}),
        ("malformed", "malformed", {}),
        ("undersized", "custom", {"handler": _custom_undersized}),
        ("cname-only", "custom", {"handler": _custom_cname_only}),
        ("tc-then-tcp-servfail", "custom", {"handler": _custom_servfail_tcp}),
        ("referral", "custom", {"handler": _custom_referral}),
        ("formerr", "custom", {"handler": _custom_formerr}),
    ]
    for label, kind, params in simple:
        for family in ("inet", "inet6"):
            name = "%s-%s.%s" % (label, family, ZONE)
            data = {name: ("A", "127.0.20.1") if family == "inet" else ("AAAA", "::1")}
            settle = params.get("seconds", 0) + 0.2 if kind == "delay" else 0.0
            cases.append(Case("%s-%s" % (label, family), [name], family=family, resolv=ONE_NS,
                              settle=settle, setup=chain(soa, records(data=data),
                                                         behave(kind, **params))))
    name = "nodata-inet6.%s" % ZONE
    cases.append(Case("nodata-inet6", [name], family="inet6", resolv=ONE_NS,
                      setup=chain(soa, records(data={name: ("A", "127.0.21.1")}))))
    name = "nodata-inet.%s" % ZONE
    cases.append(Case("nodata-inet", [name], family="inet", resolv=ONE_NS,
                      setup=chain(soa, records(data={name: ("AAAA", "::1")}))))
    for family in ("inet", "inet6"):
        cases.extend(_cname_cases(family))
    # A name that is no valid host name (res_hnok): queried, then refused.
    for family in ("inet", "inet6"):
        name = "bad!name-%s.%s" % (family, ZONE)
        data = {name: ("A", "127.0.24.1") if family == "inet" else ("AAAA", "::1")}
        cases.append(Case("invalid-hostname-%s" % family, [name], family=family,
                          resolv=ONE_NS, setup=chain(soa, records(data=data))))
    # Several addresses: getaddrinfo() sorts them (RFC 3484); in the
    # namespace only loopback is routable.
    for family, values in (("inet", ("10.1.1.1", "127.0.25.2", "127.0.25.1")),
                           ("inet6", ("2001:db8::7", "::ffff:127.0.25.3", "::1"))):
        name = "multi-address-%s.%s" % (family, ZONE)

        def multi(servers, name=name, values=values, family=family):
            for value in values:
                servers.main.add(name, "A" if family == "inet" else "AAAA", value)
        cases.append(Case("multi-address-%s" % family, [name], family=family, resolv=ONE_NS,
                          setup=chain(soa, multi)))
    for family in ("inet", "inet6"):
        name = "no-aaaa-%s.%s" % (family, ZONE)
        cases.append(Case("no-aaaa-%s" % family, [name, "no-aaaa-nx-%s.%s" % (family, ZONE)],
                          family=family,
                          resolv="nameserver 127.0.0.1\noptions timeout:1 attempts:2 no-aaaa\n",
                          setup=chain(soa, records(data={name: ("A", "127.0.23.1")}),
                                      records(data={"x" + name: ("AAAA", "::1")}))))

    # Two nameservers, the first dead (drops every query), the second fine.
    names, data = many("first-dead", 2, 30)
    cases.append(Case("two-ns-first-dead", names, resolv=TWO_NS, setup=chain(
        soa, records(data=data), behave("drop", server=0))))
    names, data = many("first-dead-rotate", 4, 31)
    cases.append(Case("two-ns-first-dead-rotate", names,
                      resolv=TWO_NS.replace("attempts:2", "attempts:2 rotate"),
                      setup=chain(soa, records(data=data), behave("drop", server=0))))
    names, data = many("both-dead", 1, 32)
    cases.append(Case("two-ns-both-dead", names, resolv=TWO_NS, setup=chain(
        soa, records(data=data), behave("drop", server=0), behave("drop", server=1))))
    names, data = many("first-servfail", 1, 33)
    cases.append(Case("two-ns-first-servfail", names, resolv=TWO_NS, setup=chain(
        soa, records(data=data), behave("servfail", server=0))))
    # No server listens on 127.0.0.3: ICMP port unreachable, at once.
    names, data = many("first-closed", 1, 34)
    cases.append(Case("two-ns-first-closed", names,
                      resolv="nameserver 127.0.0.3\nnameserver 127.0.0.1\n"
                             "options timeout:1 attempts:2\n",
                      setup=chain(soa, records(data=data))))
    names, data = many("all-closed", 1, 35)
    cases.append(Case("all-ns-closed", names,
                      resolv="nameserver 127.0.0.3\noptions timeout:1 attempts:2\n",
                      setup=chain(soa, records(data=data))))
    # Three nameservers: two drop everything, the third has no server (ICMP
    # port unreachable at once).  With timeout:3 the waits are 3 s, then
    # (3 << 1) / 3 = 2 s, then nothing: 5 s.
    names, data = many("three-ns", 1, 36)
    cases.append(Case("three-ns-two-dead", names,
                      resolv="nameserver 127.0.0.1\nnameserver 127.0.0.2\n"
                             "nameserver 127.0.0.4\noptions timeout:3 attempts:1\n",
                      setup=chain(soa, behave("drop", server=0), records(server=1, data=data),
                                  behave("drop", server=1))))
    names, data = many("attempts0", 1, 37)
    cases.append(Case("attempts-0", names,
                      resolv="nameserver 127.0.0.1\noptions timeout:1 attempts:0\n",
                      setup=chain(soa, records(data=data))))
    names, data = many("timeout0", 1, 38)
    cases.append(Case("timeout-0-dropped", names,
                      resolv="nameserver 127.0.0.1\noptions timeout:0 attempts:1\n",
                      setup=chain(soa, records(data=data), behave("drop"))))
    names, data = many("use-vc", 1, 39)
    cases.append(Case("use-vc", names,
                      resolv="nameserver 127.0.0.1\noptions timeout:1 attempts:2 use-vc\n",
                      setup=chain(soa, records(data=data))))
    return cases


#: Fault cases of the first half (the second runs in another namespace at
#: the same time: both halves take about as long).
FIRST_HALF = ("loss-", "delayed-", "three-ns", "timeout-0")


def fault_half(case):
    return "first" if case.name.startswith(FIRST_HALF) else "second"


def suite_faults():
    """``part``: "first" or "second" half of :func:`fault_cases`."""
    servers = Servers()
    patch_greenfix()
    for case in fault_cases():
        if fault_half(case) == CONFIG.get("part", fault_half(case)):
            run_case(servers, case)
    servers.stop()


# ------------------------------------------------------- search and ndots

SEARCH = "nameserver 127.0.0.1\nsearch a.test b.test\noptions ndots:2 timeout:1 attempts:1\n"


def search_records(servers):
    server = servers.main
    for zone in ("a.test", "b.test", "test", "x.y.z"):
        server.add_soa(zone, minimum=30)
    server.add("host0.b.test", "A", "127.0.40.1")          # only under b.test
    server.add("h1.sub.b.test", "A", "127.0.40.2")         # 1 dot, under b.test
    server.add("h1.sub", "A", "127.0.40.3")                # and as is
    server.add("x.y.z", "A", "127.0.40.4")                 # 2 dots: as is first
    server.add("x.y.z.a.test", "A", "127.0.40.5")
    server.add("t.a.test", "A", "127.0.40.6")              # trailing-dot name
    server.add("nd.a.test", "AAAA", "::1")                 # NODATA in a.test
    server.add("nd.b.test", "A", "127.0.40.7")
    server.add("ndonly.a.test", "AAAA", "::1")             # NODATA and nothing else
    server.add("sf.b.test", "A", "127.0.40.8")             # SERVFAIL in a.test
    server.add("to.b.test", "A", "127.0.40.9")             # timeout in a.test
    server.add("to", "A", "127.0.40.10")
    server.add("rf.b.test", "A", "127.0.40.11")            # REFUSED in a.test
    server.add("asis", "A", "127.0.40.12")                 # only as is
    server.add("two.dots.b.test", "A", "127.0.40.13")      # 2 dots, as is fails
    server.add("host0.corp.test", "A", "127.0.40.14")      # host-name domain
    server.set_behavior("servfail", name="sf.a.test")
    server.set_behavior("drop", name="to.a.test")
    server.set_behavior("refused", name="rf.a.test")
    server.set_behavior("drop", name="tosv.y.z")           # as-is timeout, then search
    server.set_behavior("drop", name="nxto.y.z.a.test")    # as-is NXDOMAIN, then timeout
    server.set_behavior("drop", name="sfall.a.test")
    server.set_behavior("servfail", name="sfall.b.test")


def search_cases():
    names = ["host0", "h1.sub", "x.y.z", "t.a.test.", "nd", "ndonly", "sf", "to", "rf",
             "asis", "two.dots", "nx.none", "nxnone", "tosv.y.z", "sfall", "nxto.y.z"]
    cases = []
    for family in ("inet", "inet6"):
        for name in names:
            cases.append(Case("search-%s-%s" % (name, family), [name], family=family,
                              resolv=SEARCH, setup=search_records))
    for name in ("asis", "host0", "x.y.z"):
        cases.append(Case("no-tld-query-%s" % name, [name],
                          resolv=SEARCH.replace("attempts:1", "attempts:1 no-tld-query"),
                          setup=search_records))
    for name in ("asis", "host0"):
        cases.append(Case("root-first-%s" % name, [name],
                          resolv=SEARCH.replace("search a.test", "search . a.test"),
                          setup=search_records))
        cases.append(Case("root-last-%s" % name, [name],
                          resolv=SEARCH.replace("b.test", "b.test ."),
                          setup=search_records))
    cases.append(Case("domain-line", ["host0"],
                      resolv="nameserver 127.0.0.1\ndomain b.test\noptions timeout:1 attempts:1\n",
                      setup=search_records))
    cases.append(Case("search-then-domain", ["host0"],
                      resolv="nameserver 127.0.0.1\nsearch a.test\ndomain b.test\n"
                             "options timeout:1 attempts:1\n", setup=search_records))
    cases.append(Case("ndots-0", ["host0", "asis"],
                      resolv=SEARCH.replace("ndots:2", "ndots:0"), setup=search_records))
    # Parsing corners: an indented line is ignored, "127.1" is 127.0.0.1, a
    # timeout atoi() reads as 0 waits 1 s.
    cases.append(Case("indented-and-short-nameserver", ["asis"],
                      resolv="  nameserver 127.0.0.2\nnameserver 127.1\n"
                             "options timeout:1 attempts:1\n", setup=search_records))
    cases.append(Case("timeout-not-a-number", ["to.a.test"],
                      resolv="nameserver 127.0.0.1\noptions timeout:abc attempts:1\n",
                      setup=search_records))
    return cases


#: Names looked up with $HOSTALIASES set (by suite_search).
HOSTALIASES_NAMES = ("myalias", "MYALIAS", "other", "host0")
#: Names looked up by suite_environment.
ENVIRONMENT_NAMES = ("host0", "h1.sub", "x.y.z", "asis", "nxnone", "to")


def suite_search():
    servers = Servers()
    patch_greenfix()
    for case in search_cases():
        run_case(servers, case)
    # $HOSTALIASES: a dotless name is replaced by its alias, queried as is.
    aliases = tempfile.NamedTemporaryFile("w", suffix=".aliases", delete=False)
    aliases.write("myalias x.y.z\nother   host0.b.test\n")
    aliases.close()
    os.environ["HOSTALIASES"] = aliases.name
    for name in HOSTALIASES_NAMES:
        run_case(servers, Case("hostaliases-%s" % name, [name], resolv=SEARCH,
                               setup=search_records))
    del os.environ["HOSTALIASES"]
    # The host name's domain is the default search list (no search/domain
    # line).  glibc reads it when it loads resolv.conf.
    if HOSTNAME_OK:
        _set_hostname("box.corp.test")
        run_case(servers, Case("hostname-domain", ["host0"],
                               resolv="nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
                               setup=search_records))
        _set_hostname("fidelity")
    # Last, since glibc reloads resolv.conf no more afterwards: a negative
    # ndots wraps to 15 (x.y.z is searched first), and the next change of
    # the file is ignored.
    for case in search_last_cases():
        run_case(servers, case)
    servers.stop()


def search_last_cases():
    return [Case("ndots-negative", ["x.y.z"], resolv=SEARCH.replace("ndots:2", "ndots:-1"),
                 setup=search_records),
            Case("after-negative-ndots", ["host0", "x.y.z"],
                 resolv=SEARCH.replace("search a.test b.test", "search b.test"),
                 setup=search_records)]


def suite_environment():
    """Run with LOCALDOMAIN and RES_OPTIONS in the environment (set by the
    test when it starts the child)."""
    servers = Servers()
    patch_greenfix()
    label = CONFIG.get("label", "env")
    for name in ENVIRONMENT_NAMES:
        run_case(servers, Case("%s-%s" % (label, name), [name], resolv=SEARCH,
                               setup=search_records))
    servers.stop()


# ------------------------------------------------------------- hosts file

HOSTS = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "127.0.50.1\tfiles-only.test\n"
    "127.0.50.2\tv4only.test\n"
    "::1\tv6only.test\n"
    "::ffff:127.0.50.3\tmapped.test\n"
    "127.0.50.9\tmulti.test\n"
    "127.0.50.4\tmulti.test\n"
    "127.0.50.5\tcanon.test alias1 alias2.test\n"
    "127.0.50.6\tMixedCase.Test\n"
    "fe80::1%lo\tscoped.test\n"
    "127.1\tlegacy.test\n"
    "127.0.50.7\tcommented.test # hidden.test\n"
    "  127.0.50.8  indented.test\n"
    "127.0.50.10\tdotted.test.\n"
    "bogus\tbogus.test\n"
    "127.0.50.11\tv4dup.test\n"
    "::1\tv4dup.test\n"
    "10.0.0.1\tunreachable-first.test\n"           # no route in the namespace
    "127.0.50.13\tunreachable-first.test\n"
    "169.254.1.1\tlinklocal-first.test\n"
    "127.0.50.14\tlinklocal-first.test\n"
    "2001:db8::5\tv6-unreachable-first.test\n"
    "::1\tv6-unreachable-first.test\n"
    "::ffff:127.0.50.15\tv6-mapped-first.test\n"
    "::1\tv6-mapped-first.test\n"
)


def hosts_records(servers):
    for name in ("files-only.test", "v4only.test", "v6only.test", "scoped.test",
                 "legacy.test", "hidden.test", "bogus.test", "dotted.test"):
        servers.main.add(name, "A", "127.0.51.1")
        servers.main.add(name, "AAAA", "::1")
    for zone in ("test",):
        servers.main.add_soa(zone, minimum=30)


def hosts_cases():
    cases = []
    lookups = [
        ("files-only.test", "inet"), ("FILES-ONLY.TEST", "inet"), ("files-only.test.", "inet"),
        ("v4only.test", "inet"), ("v4only.test", "inet6"),
        ("v6only.test", "inet"), ("v6only.test", "inet6"),
        ("mapped.test", "inet"), ("mapped.test", "inet6"),
        ("multi.test", "inet"), ("canon.test", "inet"), ("alias1", "inet"),
        ("ALIAS2.test", "inet"), ("mixedcase.test", "inet"), ("MIXEDCASE.TEST", "inet"),
        ("scoped.test", "inet6"), ("legacy.test", "inet"), ("commented.test", "inet"),
        ("hidden.test", "inet"), ("indented.test", "inet"), ("dotted.test.", "inet"),
        ("dotted.test", "inet"), ("bogus.test", "inet"), ("v4dup.test", "inet"),
        ("localhost", "inet"), ("localhost", "inet6"),
        ("unreachable-first.test", "inet"), ("linklocal-first.test", "inet"),
        ("v6-unreachable-first.test", "inet6"), ("v6-mapped-first.test", "inet6"),
    ]
    for name, family in lookups:
        cases.append(Case("hosts-%s-%s" % (name, family), [name], family=family,
                          hosts=HOSTS, setup=hosts_records))
    return cases


def suite_hosts():
    servers = Servers()
    write_file("/etc/resolv.conf", ONE_NS)
    patch_greenfix()
    for case in hosts_cases():
        run_case(servers, case)
    # Changes are seen by the next lookup: rewritten in place with the same
    # size, then replaced by a new file (a new inode).
    same_size = HOSTS.replace("127.0.50.1\tfiles-only", "127.0.50.8\tfiles-only")
    for label, change in (("in-place", lambda: write_file("/etc/hosts", same_size)),
                          ("new-inode", lambda: replace_file(
                              "/etc/hosts", HOSTS.replace("127.0.50.1\t", "127.0.50.12\t")))):
        report = {"case": "hosts-reload-%s" % label}
        for side in ("libc", "greenfix"):
            write_file("/etc/hosts", HOSTS)
            first = libc_lookup("files-only.test", socket.AF_INET) if side == "libc" \
                else green_lookup("files-only.test", socket.AF_INET)[0]
            change()
            second = libc_lookup("files-only.test", socket.AF_INET) if side == "libc" \
                else green_lookup("files-only.test", socket.AF_INET)[0]
            report[side] = [first, second]
        netns.emit(report)
    servers.stop()


# -------------------------------------------------------------- nsswitch

class BackendSpy(object):
    """Counts the calls of each backend class's ``resolve``."""

    def __init__(self):
        from greenfix.resolvers.greendns import GreenDNSResolver
        from greenfix.resolvers.threadpool import ThreadPoolResolver
        self._counts = {}
        for cls in (GreenDNSResolver, ThreadPoolResolver):
            self._wrap(cls)

    def _wrap(self, cls):
        original = cls.resolve
        counts = self._counts

        def resolve(this, host, family):
            counts[cls.name] = counts.get(cls.name, 0) + 1
            return original(this, host, family)
        cls.resolve = resolve

    def reset(self):
        self._counts.clear()

    def counts(self):
        return dict(self._counts)


NSSWITCH_CASES = [
    ("files-dns", "hosts: files dns\n", "ns-a.fault.test"),
    ("files-dns-spacing", "hosts:\tfiles   dns   # comment\n", "ns-b.fault.test"),
    ("mdns4-minimal", "hosts: files mdns4_minimal [NOTFOUND=return] dns\n", "ns-c.fault.test"),
    ("dns-files", "hosts: dns files\n", "ns-d.fault.test"),
    ("no-hosts-line", "passwd: files\n", "ns-e.fault.test"),
    ("files-action-dns", "hosts: files [NOTFOUND=return] dns\n", "ns-f.fault.test"),
    ("myhostname", "hosts: files myhostname dns\n", "ns-g.fault.test"),
    ("files-only", "hosts: files\n", "files-only.test"),
    ("dns-only", "hosts: dns\n", "localhost"),
    ("dot-local", "hosts: files dns\n", "printer.local"),
]


def suite_nsswitch():
    servers = Servers()
    write_file("/etc/resolv.conf", ONE_NS)
    write_file("/etc/hosts", netns.DEFAULT_HOSTS + "127.0.60.1\tfiles-only.test\n")
    spy = BackendSpy()
    patch_greenfix()

    def setup(servers):
        soa(servers)
        for label, _, name in NSSWITCH_CASES:
            servers.main.add(name, "A", "127.0.61.%d" % (1 + len(label)))
        servers.main.add_soa("local", minimum=30)
    for label, text, name in NSSWITCH_CASES:
        run_case(servers, Case("nsswitch-%s" % label, [name], nsswitch=text, setup=setup),
                 spy=spy)
    servers.stop()


# ----------------------------------------------------- internal failures

class LogCapture(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self, logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelname, record.getMessage()))


def suite_fallback():
    """greendns failing unexpectedly: "auto" answers from the thread pool and
    logs one warning.  ``mode``: "lookup" (the stub's ``addresses()`` raises) or
    "dnspython" (dnspython's message building raises)."""
    servers = Servers()
    write_file("/etc/resolv.conf", ONE_NS)
    capture = LogCapture()
    logging.getLogger("greenfix").addHandler(capture)
    logging.getLogger("greenfix").setLevel(logging.DEBUG)
    spy = BackendSpy()
    mode = CONFIG.get("mode", "lookup")
    if mode == "lookup":
        from greenfix.resolvers import stub

        def broken(self, name, rdtype):
            raise RuntimeError("greendns exploded")
        stub.StubResolver.addresses = broken
    else:
        import dns.message

        def broken_make_query(*args, **kwargs):
            raise AttributeError("module 'dns.message' has no attribute 'make_query'")
        dns.message.make_query = broken_make_query
    patch_greenfix()
    names, data = many("fallback-" + mode, 3, 70)
    run_case(servers, Case("fallback-%s" % mode, names, setup=chain(soa, records(data=data))),
             spy=spy)
    name = "fallback-nx-%s.%s" % (mode, ZONE)
    run_case(servers, Case("fallback-%s-nxdomain" % mode, [name], setup=soa), spy=spy)
    netns.emit({"case": "fallback-%s-log" % mode, "records": capture.records})
    servers.stop()


SUITES = {
    "faults": suite_faults,
    "search": suite_search,
    "environment": suite_environment,
    "hosts": suite_hosts,
    "nsswitch": suite_nsswitch,
    "fallback": suite_fallback,
}

CONFIG = {}


def main(argv):
    global HOSTNAME_OK, greenfix, greenfix_options, netns, DNSServer
    CONFIG.update(json.loads(argv[1]))
    HOSTNAME_OK = _private_hostname("fidelity")
    eventlet.monkey_patch()
    import greenfix
    import netns
    from dnsserver import DNSServer
    from greenfix import options as greenfix_options
    SUITES[CONFIG["suite"]]()
    netns.emit({"case": "__done__", "hostname_ok": HOSTNAME_OK,
                "python": sys.version.split()[0]})


if __name__ == "__main__":
    main(sys.argv)
