"""Which names a lookup queries, in which order, what ends the search and
which error it reports: glibc's ``resolv/res_query.c`` (``res_search``,
``res_querydomain``, ``res_hostalias`` and ``res_query``'s reading of the
reply), without I/O.

As dnspython's resolver keeps its resolution logic (``_Resolution``) apart
from the I/O that drives it, :class:`Search` only plans: the network loop
(:mod:`greenfix.resolvers.stub`) iterates over it for the names to query and
reports each failed query back::

    search = Search(conf, name)
    for query_name in search:
        try:
            return query(query_name)        # the reply packet, on green sockets
        except QueryFailed as failure:
            search.failed(failure)
    raise search.failure

The plan, as res_search's: the name as it is first if it has ``ndots`` dots
or a trailing dot, then each search domain, then the name as it is; NO_DATA,
NXDOMAIN and SERVFAIL keep the search going, other failures stop it (and "no
server reachable" stops everything); the error reported is the as-is
query's, else NO_DATA, else TRY_AGAIN after a SERVFAIL, else the last one.
"""

from __future__ import absolute_import

import errno
import os

from greenfix.resolvers.wire import (
    HOST_NOT_FOUND, MAXDNAME, NO_DATA, NO_RECOVERY, NOERROR, NXDOMAIN, SERVFAIL, TRY_AGAIN,
    header)


class QueryFailed(Exception):
    """A query, or a whole search, that ended without an answer.

    ``herrno``: glibc's h_errno; ``err``: its errno afterwards (0 after a
    reply, ETIMEDOUT / ECONNREFUSED when nothing usable came); ``rcode``:
    the rcode in glibc's answer buffer (of the last datagram received);
    ``response``: the negative reply (for its SOA TTL)."""

    def __init__(self, herrno, err=0, rcode=NOERROR, response=None):
        Exception.__init__(self, herrno, err)
        self.herrno = herrno
        self.err = err
        self.rcode = rcode
        self.response = response


def reply_failure(packet, ignore_answers=False):
    """res_query(): the reply's rcode and answer count give h_errno:
    HOST_NOT_FOUND (NXDOMAIN), TRY_AGAIN (SERVFAIL), NO_DATA (NOERROR
    without answers), NO_RECOVERY (others).  The :class:`QueryFailed`, or
    None for a reply with answers.  ``ignore_answers``: the reply stands in
    for a no-aaaa AAAA query (``__res_handle_no_aaaa()``)."""
    rcode, _, ancount = header(packet)[2:5]
    if ignore_answers:
        ancount = 0
    if rcode == NOERROR and ancount:
        return None
    if rcode == NXDOMAIN:
        herrno = HOST_NOT_FOUND
    elif rcode == SERVFAIL:
        herrno = TRY_AGAIN
    elif rcode == NOERROR:
        herrno = NO_DATA
    else:  # FORMERR, NOTIMP, REFUSED, others
        herrno = NO_RECOVERY
    return QueryFailed(herrno, 0, rcode, packet)


def querydomain_name(name, domain):
    """res_querydomain(): ``name.domain`` (or ``name`` when ``domain`` is
    None) as bytes, or None when it does not fit res_mkquery's buffer
    ("n + d + 1 >= MAXDNAME", and "n - 1 >= MAXDNAME - 1" for the name
    alone)."""
    if domain is not None:
        if not isinstance(domain, bytes):
            domain = domain.encode("latin-1")
        name = name + b"." + domain
    return None if len(name) >= MAXDNAME else name


def host_alias(name, environ=os.environ):
    """res_hostalias(): the name $HOSTALIASES maps ``name`` (no dots) to:
    the first line whose first word equals it (case-insensitively) gives
    its second word."""
    path = environ.get("HOSTALIASES")
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError):
        return None
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0].lower() == name.lower():
            return words[1]
    return None


class Search(object):
    """res_search() for ``name`` (bytes) under ``conf`` (a
    :class:`~greenfix.resolvers.resolvconf.ResolvConf`), as a plan: iterate
    for the names to query (bytes, domain appended), report each failure
    with :meth:`failed`; when the iteration ends, :attr:`failure` is the
    :class:`QueryFailed` res_search reports.  A name that does not fit
    (res_querydomain's check) fails NO_RECOVERY without being handed out.
    ``aliases``: res_hostalias (a test may give its own)."""

    def __init__(self, conf, name, aliases=host_alias):
        self.failure = None
        self._conf = conf
        self._name = name
        self._aliases = aliases
        self._reported = None
        # What res_search keeps while it goes through the search list.
        self._searched = self._root_on_list = False
        self._got_nodata = self._got_servfail = False
        self._last = QueryFailed(HOST_NOT_FOUND)  # "True if we never query."

    def failed(self, failure):
        """The query of the name last handed out failed with ``failure``."""
        self._reported = failure

    def __iter__(self):
        return self._plan()

    def _querydomain(self, name, domain):
        """Hands out res_querydomain()'s name, if it fits; afterwards
        ``self._reported`` is that query's failure."""
        self._reported = None
        query_name = querydomain_name(name, domain)
        if query_name is None:
            self._reported = QueryFailed(NO_RECOVERY)
        else:
            yield query_name

    def _plan(self):
        name = self._name
        dots = name.count(b".")
        trailing_dot = name.endswith(b".")
        alias = None if dots else self._aliases(name)
        if alias is not None:
            # "If there aren't any dots, it could be a user-level alias"
            # ($HOSTALIASES): that name is queried as it is, no search.
            for query_name in self._querydomain(alias, None):
                yield query_name
            self.failure = self._reported
            return
        as_is_failure = None
        if dots >= self._conf.ndots or trailing_dot:
            for query_name in self._querydomain(name, None):
                yield query_name
            if trailing_dot:
                self.failure = self._reported
                return
            as_is_failure = self._last = self._reported
        if not dots or not trailing_dot:
            for query_name in self._search_domains():
                yield query_name
            if self.failure is not None:  # no server reachable
                return
        if self._queries_as_is_last(dots, as_is_failure is not None):
            for query_name in self._querydomain(name, None):
                yield query_name
            self._last = self._reported
        self.failure = self._reported_failure(as_is_failure)

    def _search_domains(self):
        """The search list, until a failure other than NO_DATA, NXDOMAIN or
        SERVFAIL; sets :attr:`failure` when no server is reachable."""
        for domain in self._conf.search:
            self._searched = True
            if domain.startswith("."):
                domain = domain[1:]
            if not domain:
                self._root_on_list = True
            for query_name in self._querydomain(self._name, domain):
                yield query_name
            failure = self._last = self._reported
            # "If no server present, give up."
            if failure.err == errno.ECONNREFUSED:
                self.failure = QueryFailed(TRY_AGAIN, failure.err, failure.rcode)
                return
            if failure.herrno == NO_DATA:
                self._got_nodata = True
            elif failure.herrno == HOST_NOT_FOUND:
                pass
            elif failure.herrno == TRY_AGAIN and failure.rcode == SERVFAIL:
                self._got_servfail = True
            else:
                return  # "anything else implies that we're done"

    def _queries_as_is_last(self, dots, tried_as_is):
        """Whether the name is queried as it is after the search list: not
        when it was already, or the root was on the list, nor for a dotless
        name with no-tld-query once a domain was tried."""
        if tried_as_is or self._root_on_list:
            return False
        return bool(dots) or not self._searched or not self._conf.no_tld_query

    def _reported_failure(self, as_is_failure):
        """h_errno: the as-is query's, else NO_DATA, else TRY_AGAIN after a
        SERVFAIL, else the last query's; errno is the last query's."""
        last = self._last
        if as_is_failure is not None:
            herrno = as_is_failure.herrno
        elif self._got_nodata:
            herrno = NO_DATA
        elif self._got_servfail:
            herrno = TRY_AGAIN
        else:
            herrno = last.herrno
        return QueryFailed(herrno, last.err, last.rcode, last.response)
