"""greenfix/resolvers/search.py without sockets: which names a lookup
queries in which order, what ends the search and which error it reports
(glibc's res_search / res_querydomain / res_query, as docs/resolver.rst
states them); and the stub's network loop driven by a socket module that is
no framework's."""

from __future__ import absolute_import

import errno
import socket

import dns.message
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnsmessages import query, reply, soa
from greenfix.resolvers import LookupFailed, resolvconf, search, stub, wire
from greenfix.resolvers.search import QueryFailed, Search

ANSWER = object()


def _conf(text):
    return resolvconf.parse("nameserver 127.0.0.1\n" + text, environ={})


def nxdomain(name):
    """The failure res_query reports for a real NXDOMAIN reply."""
    text = name.decode("latin-1")
    return search.reply_failure(reply(query(text), rcode="NXDOMAIN",
                                      authority=[soa("test.", 300, 30)]))


def nodata(name):
    return search.reply_failure(reply(query(name.decode("latin-1"))))


def timeout():
    """res_send: every try timed out (no usable reply)."""
    return QueryFailed(wire.TRY_AGAIN, errno.ETIMEDOUT, wire.NOERROR)


def servfail():
    """res_send: every server answered SERVFAIL (the last datagram's rcode)."""
    return QueryFailed(wire.TRY_AGAIN, errno.ETIMEDOUT, wire.SERVFAIL)


def refused_everywhere():
    """res_send: ICMP port unreachable from every server."""
    return QueryFailed(wire.TRY_AGAIN, errno.ECONNREFUSED, wire.NOERROR)


def drive(conf, name, outcome_of, aliases=lambda name: None):
    """Runs a Search as the stub does: ``outcome_of(name)`` gives each
    query's failure, or ANSWER.  (names queried, ANSWER or the failure)."""
    plan = Search(conf, name, aliases)
    queried = []
    for query_name in plan:
        queried.append(query_name)
        outcome = outcome_of(query_name)
        if outcome is ANSWER:
            return queried, ANSWER
        plan.failed(outcome)
    return queried, plan.failure


# ----------------------------------------------------------- the order

def test_dotless_name_tries_the_search_list_then_the_name():
    queried, failure = drive(_conf("search a.test b.test\n"), b"www", nxdomain)
    assert queried == [b"www.a.test", b"www.b.test", b"www"]
    assert failure.herrno == wire.HOST_NOT_FOUND
    assert failure.response is not None and wire.negative_ttl(failure.response) == 30


def test_ndots_dots_query_the_name_first_and_its_error_is_reported():
    """The as-is query timed out, the domains said NXDOMAIN: h_errno is the
    as-is query's, errno the last one's (EAI_NONAME for AF_INET, EAI_AGAIN
    for AF_INET6, docs/resolver.rst's table)."""
    outcomes = {b"www.x": timeout()}
    queried, failure = drive(_conf("search a.test\noptions ndots:1\n"), b"www.x",
                             lambda name: outcomes.get(name) or nxdomain(name))
    assert queried == [b"www.x", b"www.x.a.test"]
    assert (failure.herrno, failure.err) == (wire.TRY_AGAIN, 0)
    assert wire.search_gai_error(wire.T_A, failure.herrno, failure.err) == socket.EAI_NONAME
    assert wire.search_gai_error(wire.T_AAAA, failure.herrno, failure.err) == socket.EAI_AGAIN


def test_fewer_dots_than_ndots_query_the_name_last():
    queried, _ = drive(_conf("search a.test\noptions ndots:2\n"), b"www.x", nxdomain)
    assert queried == [b"www.x.a.test", b"www.x"]


def test_trailing_dot_queries_only_the_name_and_reports_its_failure():
    failure = timeout()
    queried, reported = drive(_conf("search a.test\n"), b"www.x.", lambda name: failure)
    assert queried == [b"www.x."] and reported is failure


def test_an_answer_ends_the_search():
    queried, outcome = drive(_conf("search a.test b.test c.test\n"), b"www",
                             lambda name: ANSWER if name == b"www.b.test" else nxdomain(name))
    assert queried == [b"www.a.test", b"www.b.test"] and outcome is ANSWER


def test_root_on_the_list_is_queried_in_place_of_the_name():
    queried, _ = drive(_conf("search a.test . b.test\n"), b"www", nxdomain)
    assert queried == [b"www.a.test", b"www.", b"www.b.test"]


def test_no_tld_query_skips_the_dotless_name_only():
    conf = _conf("search a.test\noptions no-tld-query ndots:5\n")
    assert drive(conf, b"www", nxdomain)[0] == [b"www.a.test"]
    assert drive(conf, b"www.x", nxdomain)[0] == [b"www.x.a.test", b"www.x"]
    assert drive(_conf("options no-tld-query\n"), b"www", nxdomain)[0] == [b"www"]


# ----------------------------------------------------- what ends it

def test_nodata_in_a_domain_is_reported_over_later_nxdomains():
    queried, failure = drive(_conf("search a.test b.test\n"), b"www",
                             lambda name: nodata(name) if name == b"www.a.test" else nxdomain(name))
    assert queried == [b"www.a.test", b"www.b.test", b"www"]
    assert failure.herrno == wire.NO_DATA


def test_servfail_keeps_searching_and_reports_try_again():
    queried, failure = drive(_conf("search a.test b.test\n"), b"www",
                             lambda name: servfail() if name == b"www.a.test" else nxdomain(name))
    assert queried == [b"www.a.test", b"www.b.test", b"www"]
    assert failure.herrno == wire.TRY_AGAIN and failure.err == 0


def test_timeout_stops_the_list_but_the_name_is_still_tried():
    queried, failure = drive(_conf("search a.test b.test\n"), b"www",
                             lambda name: timeout() if name == b"www.a.test" else nxdomain(name))
    assert queried == [b"www.a.test", b"www"]
    assert failure.herrno == wire.HOST_NOT_FOUND


def test_no_server_reachable_stops_everything():
    queried, failure = drive(_conf("search a.test b.test\n"), b"www",
                             lambda name: refused_everywhere())
    assert queried == [b"www.a.test"]
    assert (failure.herrno, failure.err, failure.response) == \
        (wire.TRY_AGAIN, errno.ECONNREFUSED, None)


def test_names_too_long_for_res_mkquery_are_not_queried():
    """The name with a domain does not fit (NO_RECOVERY, which ends the
    list); the name alone does, and is queried (and fails as the stub fails
    a name it cannot encode)."""
    name = b".".join([b"a" * 67] * 15)                  # 1019 octets, 14 dots
    unencodable = QueryFailed(wire.NO_RECOVERY, errno.EMSGSIZE)
    queried, failure = drive(_conf("search a.test b.test\noptions ndots:15\n"), name,
                             lambda name: unencodable)
    assert queried == [name]                            # not name.a.test: 1026 octets
    assert (failure.herrno, failure.err) == (wire.NO_RECOVERY, errno.EMSGSIZE)
    queried, failure = drive(_conf("search a.test\n"), b"a" * 1025, nxdomain)
    assert queried == [] and (failure.herrno, failure.err) == (wire.NO_RECOVERY, 0)


# -------------------------------------------------------- $HOSTALIASES

def test_host_alias_replaces_a_dotless_name(tmp_path):
    aliases = tmp_path / "aliases"
    aliases.write_bytes(b"other x.test\nWWW real.example.test extra\nwww second.test\n")
    environ = {"HOSTALIASES": str(aliases)}
    assert search.host_alias(b"www", environ) == b"real.example.test"
    assert search.host_alias(b"none", environ) is None
    assert search.host_alias(b"www", {}) is None
    assert search.host_alias(b"www", {"HOSTALIASES": str(tmp_path / "missing")}) is None
    lookup = lambda name: search.host_alias(name, environ)  # noqa: E731
    queried, failure = drive(_conf("search a.test\n"), b"www", nxdomain, lookup)
    assert queried == [b"real.example.test"]
    assert failure.herrno == wire.HOST_NOT_FOUND
    asked = []
    drive(_conf("search a.test\n"), b"www.x", nxdomain, lambda name: asked.append(name))
    assert asked == []                       # names with dots are no aliases


# ------------------------------------------------------------ res_query

@pytest.mark.parametrize("rcode,herrno", [
    ("NXDOMAIN", wire.HOST_NOT_FOUND), ("SERVFAIL", wire.TRY_AGAIN),
    ("NOERROR", wire.NO_DATA), ("FORMERR", wire.NO_RECOVERY), ("REFUSED", wire.NO_RECOVERY),
    ("NOTIMP", wire.NO_RECOVERY)])
def test_reply_rcode_gives_h_errno(rcode, herrno):
    data = reply(query("www.test."), rcode=rcode)
    failure = search.reply_failure(data)
    assert (failure.herrno, failure.err, failure.rcode, failure.response) == \
        (herrno, 0, dns.message.from_wire(data).rcode(), data)


def test_reply_with_answers_is_no_failure_unless_no_aaaa():
    data = reply(query("www.test."), answers=[("www.test.", 60, "A", "192.0.2.1")])
    assert search.reply_failure(data) is None
    assert search.reply_failure(data, ignore_answers=True).herrno == wire.NO_DATA


def test_querydomain_name():
    assert search.querydomain_name(b"www", u"a.test") == b"www.a.test"
    assert search.querydomain_name(b"www", None) == b"www"
    assert search.querydomain_name(b"w" * 1018, u"a.test") is None        # 1025 octets
    assert search.querydomain_name(b"w" * 1017, u"a.test") == b"w" * 1017 + b".a.test"


# ------------------------------------------------ any outcome, any plan

failures = st.sampled_from([timeout, servfail, refused_everywhere, "nx", "nodata"])


@given(domains=st.lists(st.sampled_from([u"a.test", u".", u"", u".b.test"]), max_size=4),
       dots=st.integers(min_value=0, max_value=3), ndots=st.integers(min_value=0, max_value=3),
       no_tld=st.booleans(), outcomes=st.lists(failures, min_size=6, max_size=6))
@settings(max_examples=200, deadline=None)
def test_every_search_ends_with_a_failure_after_a_bounded_plan(domains, dots, ndots, no_tld,
                                                               outcomes):
    conf = _conf("options ndots:%d%s\n" % (ndots, " no-tld-query" if no_tld else ""))
    conf.search = domains
    name = b".".join([b"www"] + [b"x"] * dots)
    pending = list(outcomes)

    def outcome_of(query_name):
        kind = pending.pop(0)
        return {"nx": nxdomain, "nodata": nodata}[kind](query_name) \
            if isinstance(kind, str) else kind()
    queried, failure = drive(conf, name, outcome_of)
    assert len(queried) <= len(domains) + 1
    assert isinstance(failure, QueryFailed)
    assert failure.herrno in (wire.HOST_NOT_FOUND, wire.TRY_AGAIN, wire.NO_RECOVERY,
                              wire.NO_DATA)


# ------------------------------------ the network loop, on plain sockets

class FakeSocketModule(object):
    """A socket module whose datagram sockets answer from ``answer(query)``
    (a dnspython query message -> reply bytes, or None to stay silent):
    the stub needs no framework, only a module with ``socket``."""

    SOCK_DGRAM, SOCK_STREAM = socket.SOCK_DGRAM, socket.SOCK_STREAM

    def __init__(self, answer):
        self.answer = answer
        self.queries = []

    def socket(self, family, kind):
        return FakeSocket(self)


class FakeSocket(object):
    def __init__(self, module):
        self.module = module
        self.inbox = []

    def connect(self, server):
        self.server = server

    def send(self, data):
        message = dns.message.from_wire(data)
        self.module.queries.append(message.question[0].name.to_text())
        response = self.module.answer(message)
        if response is not None:
            self.inbox.append(response)

    def settimeout(self, seconds):
        pass

    def recv(self, size):
        if not self.inbox:
            raise socket.timeout()
        return self.inbox.pop(0)

    def close(self):
        pass


def test_the_stub_runs_on_any_socket_module():
    def answer(message):
        name = message.question[0].name.to_text()
        if name == "www.b.test.":
            return reply(message, answers=[(name, 60, "A", "192.0.2.7")])
        if name.startswith("lost."):
            return None                                  # a lost packet
        return reply(message, rcode="NXDOMAIN", authority=[soa("test.", 300, 30)])
    module = FakeSocketModule(answer)
    conf = _conf("search a.test b.test\noptions attempts:1\n")
    conf.timeout = 0.01
    resolver = stub.StubResolver(lambda: conf, dns, module)
    assert resolver.addresses(b"www", wire.T_A) == (["192.0.2.7"], 60)
    assert module.queries == ["www.a.test.", "www.b.test."]
    del module.queries[:]
    with pytest.raises(LookupFailed) as failed:
        resolver.addresses(b"nx.example", wire.T_A)
    assert (failed.value.code, failed.value.ttl) == (socket.EAI_NONAME, 30)
    assert module.queries == ["nx.example.", "nx.example.a.test.", "nx.example.b.test."]
    del module.queries[:]
    with pytest.raises(LookupFailed) as failed:
        resolver.addresses(b"lost", wire.T_A)
    assert module.queries == ["lost.a.test.", "lost."]  # the timeout stopped the list
    assert failed.value.code == socket.EAI_AGAIN
