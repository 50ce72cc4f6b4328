# -*- coding: utf-8 -*-
"""A small, controllable DNS server for tests (UDP and TCP on one port).

The server runs in native OS threads built from the *original* (unpatched)
``socket``, ``select``, ``threading`` and ``time`` modules, obtained through
``eventlet.patcher.original`` when eventlet is importable.  It therefore keeps
answering even if the test process called ``eventlet.monkey_patch()`` and the
hub thread is stuck inside a blocking C call (libc ``getaddrinfo``, a blocking
``recv`` ...).  Importing this module never requires eventlet, nor that the
process be monkey-patched.

Runs on Python 2.7 and 3.6+, with dnspython 1.16 and 2.x.

Quick start::

    from dnsserver import DNSServer

    with DNSServer() as server:                 # 127.0.0.1, ephemeral port
        server.add('www.example.test', 'A', '192.0.2.10', ttl=30)
        server.add('alias.example.test', 'CNAME', 'www.example.test')
        server.add_soa('example.test', minimum=5)
        server.set_behavior('drop', name='slow.example.test')
        host, port = server.address
        ...
        assert server.count('www.example.test', 'A', transport='udp') == 1

Public API
==========

``DNSServer(host='127.0.0.1', port=0)``
    ``host`` may be an IPv4 or IPv6 literal ('::1').  ``port=0`` picks an
    ephemeral port that is free for both UDP and TCP (retrying on clashes).
    Sockets are bound by ``start()``.

``start()`` -> self, ``stop()``, context manager (``with DNSServer() as s``)
    ``stop()`` is idempotent; it closes every socket (TCP clients included)
    and joins the threads.

``port``, ``host``, ``address`` -> ``(host, port)``
    ``port`` is None until ``start()``.

Records
-------
``add(name, rdtype, value, ttl=60)``
    Add one record, e.g. ``add('www.example.test', 'A', '192.0.2.10')``.
    ``value`` is master-file text for the rdata, so any type dnspython knows
    works ('AAAA', 'CNAME', 'MX', 'TXT', 'PTR', 'SRV' ...).  Several ``add``
    calls for the same (name, type) build one RRset whose TTL is the minimum
    of the TTLs given.  Names inside values (CNAME targets, MX exchanges ...)
    are always absolute, with or without a trailing dot.
``add_soa(zone, mname=None, rname=None, serial=1, refresh=3600, retry=600,
expire=86400, minimum=300, ttl=3600)``
    Declare a zone.  The SOA record is also served at the zone apex.  Negative
    answers (NXDOMAIN, NODATA) for names at or below the zone carry the SOA in
    the authority section with TTL ``min(ttl, minimum)`` (RFC 2308).  The
    deepest enclosing zone wins.
``remove(name, rdtype=None)``, ``clear_records()``

Answering rules (behaviour 'answer'):

* name has records of the queried type: NOERROR with them (AA and RA set);
* name has a CNAME (and the query is not for CNAME): the CNAME is added to the
  answer and the lookup restarts at its target, as a recursive resolver
  presents it: ``alias CNAME www`` + ``www A ...``.  If the chain ends at a
  name that does not exist the rcode is NXDOMAIN (RFC 6604); at a name without
  that type, NOERROR/NODATA.  Loops and chains longer than 16 are SERVFAIL;
* name exists (it has records, or a name below it has: an "empty
  non-terminal", RFC 8020) but not of that type: NOERROR, empty answer
  (NODATA) + SOA of the enclosing zone if any;
* otherwise NXDOMAIN + SOA of the enclosing zone if any;
* qtype ANY returns every RRset at the name;
* over UDP, a reply larger than 512 bytes (or the EDNS payload the query
  advertised) is sent with TC set and empty sections, like a real server.

Behaviours
----------
``set_behavior(kind, name=None, rdtype=None, **params)``
    Settable at any time, from any thread.  ``name=None`` and ``rdtype=None``
    are wildcards.  The most specific rule wins, in this order:
    (name, rdtype), (name, any type), (any name, rdtype), global.  The rule
    is picked by the query's own qname (not by CNAME targets).  ``kind``:

    ``'answer'``      the default: answer from the records (above).  Setting it
                      for one name exempts that name from a global rule.
    ``'nxdomain'``    NXDOMAIN (+ SOA if a zone encloses the name).
    ``'servfail'``    SERVFAIL, empty sections.
    ``'refused'``     REFUSED, empty sections.
    ``'drop'``        never reply.
    ``'drop_fraction'`` ``fraction=0.3, seed=0``: drop each matching query with
                      probability ``fraction`` drawn from
                      ``random.Random(seed)`` created when the rule is set
                      (deterministic for a given sequence of queries);
                      answer the others normally.
    ``'delay'``       ``seconds=1.0``: answer normally after ``seconds``.
                      Other queries are not held up (a scheduler thread sends
                      the reply).
    ``'truncate'``    over UDP: TC bit, empty sections (clients retry over
                      TCP); over TCP: a full answer.
    ``'wrong_id'``    normal answer with message id ``(id + 1) % 65536``.
    ``'wrong_question'`` normal answer whose question section names
                      ``qname`` (param, default ``'wrong-question.invalid'``)
                      instead of the name asked.
    ``'malformed'``   ``data=None``: send bytes that do not parse as DNS: by
                      default the query id, QR|RD|RA flags, a header that
                      claims one question and one answer, and 3 junk bytes.
    ``'custom'``      ``handler=callable(query, transport)`` returning the
                      wire bytes to send, or None to send nothing.  ``query``
                      is the parsed dns.message.Message.  Called in a server
                      thread.

    Every kind also accepts ``delay=seconds`` to postpone its reply (e.g. a slow
    SERVFAIL).
``clear_behavior(name=None, rdtype=None)``, ``reset_behaviors()``

Query log
---------
``queries``
    A snapshot (new list) of :class:`Query` namedtuples
    ``(transport, name, rdtype, time)``: transport is ``'udp'`` or ``'tcp'``,
    name is the qname in lower case *without* the trailing dot
    ('www.example.test'), rdtype is the type mnemonic ('A', 'AAAA'), time is
    ``time.time()`` when the query was received.  Every parsed query is
    logged, dropped ones included.
``count(name=None, rdtype=None, transport=None)``
    How many logged queries match (None = any; names and types are normalised
    like the log).
``clear_log()``
``bad_queries``
    How many received messages were not a parseable one-question query (not
    logged in ``queries``).  They get a FORMERR reply when an id can be read.

Helpers
-------
``ipv6_loopback_available()`` -> bool
    Whether a UDP socket can bind to ::1 here (a server on '::1' can start).
"""

from __future__ import absolute_import, division, print_function

import collections
import heapq
import random
import struct
import sys
import warnings

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset


def _original_modules():
    """Return unpatched (socket, select, threading, time) modules."""
    try:
        with warnings.catch_warnings():
            # eventlet >= 0.36 warns about its own deprecation on import.
            warnings.simplefilter('ignore')
            from eventlet import patcher
    except ImportError:
        patcher = None
    if patcher is not None:
        return (patcher.original('socket'), patcher.original('select'),
                patcher.original('threading'), patcher.original('time'))
    import select as _select
    import socket as _socket
    import threading as _threading
    import time as _time
    return _socket, _select, _threading, _time


_socket, _select, _threading, _time = _original_modules()

__all__ = ['DNSServer', 'Query', 'BEHAVIOR_KINDS', 'normalize_name',
           'ipv6_loopback_available']

Query = collections.namedtuple('Query', 'transport name rdtype time')

BEHAVIOR_KINDS = frozenset([
    'answer', 'nxdomain', 'servfail', 'refused', 'drop', 'drop_fraction',
    'delay', 'truncate', 'wrong_id', 'wrong_question', 'malformed', 'custom',
])

_KIND_PARAMS = {
    'drop_fraction': ('fraction', 'seed'),
    'delay': ('seconds',),
    'wrong_question': ('qname',),
    'malformed': ('data',),
    'custom': ('handler',),
}

_MAX_CHAIN = 16
_IN = dns.rdataclass.IN
_EADDRINUSE = 98


def ipv6_loopback_available():
    """Whether a UDP socket can bind to ::1 (IPv6 loopback configured)."""
    if not getattr(_socket, 'has_ipv6', False):
        return False
    sock = _socket.socket(_socket.AF_INET6, _socket.SOCK_DGRAM)
    try:
        sock.bind(('::1', 0))
        return True
    except _socket.error:
        return False
    finally:
        sock.close()


def normalize_name(name):
    """'WWW.Example.Test.' / dns.name.Name -> 'www.example.test'."""
    if isinstance(name, dns.name.Name):
        name = name.to_text()
    if isinstance(name, bytes):
        name = name.decode('ascii')
    name = name.lower()
    if name.endswith('.') and not name.endswith('\\.'):
        name = name[:-1]
    return name


def _normalize_type(rdtype):
    if rdtype is None:
        return None
    if isinstance(rdtype, int):
        return dns.rdatatype.to_text(rdtype)
    return str(rdtype).upper()


def _absolute(name):
    return dns.name.from_text(name if name else '.')


class _Rule(object):
    """One behaviour rule (kind + params)."""

    def __init__(self, kind, params):
        if kind not in BEHAVIOR_KINDS:
            raise ValueError('unknown behaviour kind %r (expected one of %s)'
                             % (kind, ', '.join(sorted(BEHAVIOR_KINDS))))
        allowed = set(_KIND_PARAMS.get(kind, ())) | set(['delay'])
        unknown = set(params) - allowed
        if unknown:
            raise TypeError('behaviour %r takes no parameter(s) %s'
                            % (kind, ', '.join(sorted(unknown))))
        self.kind = kind
        self.delay = float(params.get('delay') or 0.0)
        if kind == 'delay':
            self.delay = float(params.get('seconds', 1.0)) + self.delay
        self.fraction = float(params.get('fraction', 0.3))
        if kind == 'drop_fraction' and not 0.0 <= self.fraction <= 1.0:
            raise ValueError('fraction must be within [0, 1]')
        self.rng = random.Random(params.get('seed', 0))
        self.qname = params.get('qname', 'wrong-question.invalid')
        self.data = params.get('data')
        self.handler = params.get('handler')
        if kind == 'custom' and not callable(self.handler):
            raise TypeError("behaviour 'custom' needs handler=callable")

    def __repr__(self):
        return '<_Rule %s delay=%s>' % (self.kind, self.delay)


class _Scheduler(object):
    """A native thread that runs callables at given times."""

    def __init__(self):
        self._cond = _threading.Condition(_threading.Lock())
        self._heap = []
        self._seq = 0
        self._stopped = False
        self._thread = _threading.Thread(target=self._run,
                                         name='dnsserver-scheduler')
        self._thread.daemon = True
        self._thread.start()

    def call_later(self, delay, fn):
        with self._cond:
            if self._stopped:
                return
            self._seq += 1
            heapq.heappush(self._heap, (_time.time() + delay, self._seq, fn))
            self._cond.notify()

    def _run(self):
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    if self._heap:
                        wait = self._heap[0][0] - _time.time()
                        if wait <= 0:
                            fn = heapq.heappop(self._heap)[2]
                            break
                        self._cond.wait(wait)
                    else:
                        self._cond.wait()
            try:
                fn()
            except Exception:  # a closed socket etc.: nothing to do
                pass

    def stop(self):
        with self._cond:
            self._stopped = True
            self._heap = []
            self._cond.notify()
        self._thread.join(5)


class DNSServer(object):
    """A controllable DNS server on UDP+TCP; see the module docstring."""

    def __init__(self, host='127.0.0.1', port=0):
        self.host = host
        self._want_port = int(port)
        self.port = None
        self._lock = _threading.RLock()
        self._records = {}    # name -> {type: [(value, ttl)]}
        self._rrsets = {}     # name -> {type: RRset}
        self._zones = {}      # zone name -> negative SOA RRset
        self._rules = {}      # (name|None, type|None) -> _Rule
        self._log = []
        self.bad_queries = 0
        self._udp = None
        self._tcp = None
        self._wake_r = None
        self._wake_w = None
        self._threads = []
        self._conns = set()
        self._scheduler = None
        self._running = False

    # ------------------------------------------------------------ lifecycle
    @property
    def address(self):
        return (self.host, self.port)

    @property
    def family(self):
        return _socket.AF_INET6 if ':' in self.host else _socket.AF_INET

    def _bind(self):
        family = self.family
        attempts = 1 if self._want_port else 64
        last_error = None
        for _ in range(attempts):
            udp = _socket.socket(family, _socket.SOCK_DGRAM)
            tcp = _socket.socket(family, _socket.SOCK_STREAM)
            try:
                tcp.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
                udp.bind((self.host, self._want_port))
                port = udp.getsockname()[1]
                tcp.bind((self.host, port))
                tcp.listen(64)
            except _socket.error as e:
                udp.close()
                tcp.close()
                last_error = e
                if getattr(e, 'errno', None) != _EADDRINUSE:
                    raise
                continue
            return udp, tcp, port
        raise last_error

    def start(self):
        if self._running:
            return self
        self._udp, self._tcp, self.port = self._bind()
        self._wake_r, self._wake_w = _socket.socketpair()
        self._scheduler = _Scheduler()
        self._running = True
        for target, name in ((self._udp_loop, 'udp'),
                             (self._accept_loop, 'tcp-accept')):
            t = _threading.Thread(target=target,
                                  name='dnsserver-%s-%s' % (name, self.port))
            t.daemon = True
            t.start()
            self._threads.append(t)
        return self

    def stop(self):
        if not self._running:
            return
        self._running = False
        try:
            self._wake_w.send(b'x')
        except _socket.error:
            pass
        self._scheduler.stop()
        for t in list(self._threads):
            t.join(5)
        with self._lock:
            conns = list(self._conns)
            self._conns.clear()
        for c in conns:
            try:
                c.close()
            except _socket.error:
                pass
        for s in (self._udp, self._tcp, self._wake_r, self._wake_w):
            try:
                s.close()
            except _socket.error:
                pass
        self._threads = []

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return '<DNSServer %s port %s%s>' % (
            self.host, self.port, '' if self._running else ' (stopped)')

    # -------------------------------------------------------------- records
    def add(self, name, rdtype, value, ttl=60):
        name = normalize_name(name)
        rdtype = _normalize_type(rdtype)
        with self._lock:
            entries = self._records.get(name, {}).get(rdtype, [])
            entries = entries + [(str(value), int(ttl))]
            # Build first: a bad value raises before anything is stored.
            rrset = self._make_rrset(name, rdtype, entries)
            self._records.setdefault(name, {})[rdtype] = entries
            self._rrsets.setdefault(name, {})[rdtype] = rrset

    @staticmethod
    def _make_rrset(name, rdtype, entries):
        ttl = min(t for _, t in entries)
        values = []
        for value, _ in entries:
            if value not in values:
                values.append(value)
        rdatas = [dns.rdata.from_text(_IN, dns.rdatatype.from_text(rdtype),
                                      v, origin=dns.name.root,
                                      relativize=False)
                  for v in values]
        return dns.rrset.from_rdata_list(_absolute(name), ttl, rdatas)

    def add_soa(self, zone, mname=None, rname=None, serial=1, refresh=3600,
                retry=600, expire=86400, minimum=300, ttl=3600):
        zone = normalize_name(zone)
        suffix = ('.' + zone) if zone else ''
        mname = mname or ('ns' + suffix)
        rname = rname or ('hostmaster' + suffix)
        text = '%s. %s. %d %d %d %d %d' % (
            normalize_name(mname), normalize_name(rname), serial, refresh,
            retry, expire, minimum)
        negative = self._make_rrset(zone, 'SOA', [(text, min(ttl, minimum))])
        with self._lock:
            self._records.setdefault(zone, {})['SOA'] = [(text, int(ttl))]
            self._rrsets.setdefault(zone, {})['SOA'] = self._make_rrset(
                zone, 'SOA', [(text, int(ttl))])
            self._zones[zone] = negative

    def remove(self, name, rdtype=None):
        name = normalize_name(name)
        with self._lock:
            if rdtype is None:
                self._records.pop(name, None)
                self._rrsets.pop(name, None)
                self._zones.pop(name, None)
                return
            rdtype = _normalize_type(rdtype)
            for d in (self._records, self._rrsets):
                d.get(name, {}).pop(rdtype, None)
                if name in d and not d[name]:
                    del d[name]
            if rdtype == 'SOA':
                self._zones.pop(name, None)

    def clear_records(self):
        with self._lock:
            self._records.clear()
            self._rrsets.clear()
            self._zones.clear()

    # ------------------------------------------------------------ behaviours
    def set_behavior(self, kind, name=None, rdtype=None, **params):
        rule = _Rule(kind, params)
        key = (None if name is None else normalize_name(name),
               _normalize_type(rdtype))
        with self._lock:
            self._rules[key] = rule

    def clear_behavior(self, name=None, rdtype=None):
        key = (None if name is None else normalize_name(name),
               _normalize_type(rdtype))
        with self._lock:
            self._rules.pop(key, None)

    def reset_behaviors(self):
        with self._lock:
            self._rules.clear()

    def _rule_for(self, name, rdtype):
        with self._lock:
            for key in ((name, rdtype), (name, None), (None, rdtype),
                        (None, None)):
                rule = self._rules.get(key)
                if rule is not None:
                    return rule
        return None

    # ------------------------------------------------------------ query log
    @property
    def queries(self):
        with self._lock:
            return list(self._log)

    def count(self, name=None, rdtype=None, transport=None):
        name = None if name is None else normalize_name(name)
        rdtype = _normalize_type(rdtype)
        n = 0
        with self._lock:
            for q in self._log:
                if ((name is None or q.name == name) and
                        (rdtype is None or q.rdtype == rdtype) and
                        (transport is None or q.transport == transport)):
                    n += 1
        return n

    def clear_log(self):
        with self._lock:
            del self._log[:]
            self.bad_queries = 0

    # ------------------------------------------------------------ answering
    def _exists(self, name):
        if name in self._records:
            return True
        suffix = '.' + name if name else ''
        return any(n.endswith(suffix) for n in self._records)

    def _negative_soa(self, name):
        labels = name.split('.') if name else []
        for i in range(len(labels) + 1):
            zone = '.'.join(labels[i:])
            soa = self._zones.get(zone)
            if soa is not None:
                return soa
        return None

    def _resolve(self, qname, rdtype):
        """-> (rcode, answer rrsets, authority rrsets)."""
        answer = []
        current = qname
        seen = set()
        with self._lock:
            while True:
                node = self._rrsets.get(current, {})
                if rdtype == 'ANY' and node:
                    answer.extend(node.values())
                    return dns.rcode.NOERROR, answer, []
                if rdtype in node:
                    answer.append(node[rdtype])
                    return dns.rcode.NOERROR, answer, []
                if 'CNAME' in node and rdtype != 'CNAME':
                    cname = node['CNAME']
                    answer.append(cname)
                    seen.add(current)
                    current = normalize_name(cname[0].target)
                    if current in seen or len(seen) >= _MAX_CHAIN:
                        return dns.rcode.SERVFAIL, [], []
                    continue
                soa = self._negative_soa(current)
                authority = [soa] if soa is not None else []
                if self._exists(current):
                    return dns.rcode.NOERROR, answer, authority
                return dns.rcode.NXDOMAIN, answer, authority

    def _build_reply(self, query, qname, rdtype, rule, transport):
        """Return the wire bytes to send, or None for no reply."""
        kind = rule.kind if rule is not None else 'answer'
        if kind == 'drop':
            return None
        if kind == 'drop_fraction':
            with self._lock:
                dropped = rule.rng.random() < rule.fraction
            if dropped:
                return None
        if kind == 'custom':
            return rule.handler(query, transport)
        if kind == 'malformed':
            if rule.data is not None:
                return bytes(rule.data)
            return (struct.pack('!HHHHHH', query.id, 0x8180, 1, 1, 0, 0) +
                    b'\xff\xfe\xfd')
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA | dns.flags.RA
        if kind == 'servfail':
            response.set_rcode(dns.rcode.SERVFAIL)
        elif kind == 'refused':
            response.set_rcode(dns.rcode.REFUSED)
        elif kind == 'truncate' and transport == 'udp':
            response.flags |= dns.flags.TC
        elif kind == 'nxdomain':
            response.set_rcode(dns.rcode.NXDOMAIN)
            with self._lock:
                soa = self._negative_soa(qname)
            if soa is not None:
                response.authority = [soa]
        else:
            rcode, answer, authority = self._resolve(qname, rdtype)
            response.set_rcode(rcode)
            response.answer = answer
            response.authority = authority
        if kind == 'wrong_id':
            response.id = (query.id + 1) % 65536
        if kind == 'wrong_question':
            response.question = [dns.rrset.RRset(
                _absolute(normalize_name(rule.qname)),
                query.question[0].rdclass, query.question[0].rdtype)]
        # Records keep the order they were added in (dnspython would shuffle
        # them): libc and greenfix must see the same first address.
        wire = response.to_wire(want_shuffle=False)
        if transport == 'udp':
            limit = 512
            if query.edns >= 0:
                limit = max(512, query.payload)
            if len(wire) > limit:
                response.flags |= dns.flags.TC
                response.answer = []
                response.authority = []
                response.additional = []
                wire = response.to_wire(want_shuffle=False)
        return wire

    def _handle(self, data, transport, send):
        """Parse one query, log it, and send (now or later) the reply."""
        try:
            query = dns.message.from_wire(data)
        except Exception:
            with self._lock:
                self.bad_queries += 1
            if len(data) >= 2:  # FORMERR with the id, if we can read one
                send(data[:2] + b'\x81\x01' + b'\x00' * 8)
            return
        if query.flags & dns.flags.QR or len(query.question) != 1:
            with self._lock:
                self.bad_queries += 1
            response = dns.message.make_response(query) \
                if not query.flags & dns.flags.QR else None
            if response is not None:
                response.set_rcode(dns.rcode.FORMERR)
                send(response.to_wire(want_shuffle=False))
            return
        question = query.question[0]
        qname = normalize_name(question.name)
        rdtype = dns.rdatatype.to_text(question.rdtype)
        with self._lock:
            self._log.append(Query(transport, qname, rdtype, _time.time()))
        rule = self._rule_for(qname, rdtype)
        if rule is not None and rule.delay > 0:
            def later():
                wire = self._build_reply(query, qname, rdtype, rule, transport)
                if wire is not None:
                    send(wire)
            self._scheduler.call_later(rule.delay, later)
            return
        wire = self._build_reply(query, qname, rdtype, rule, transport)
        if wire is not None:
            send(wire)

    # -------------------------------------------------------------- network
    def _wait_readable(self, sock):
        """Block until sock is readable; False once the server stops."""
        while True:
            if not self._running:
                return False
            try:
                r, _, _ = _select.select([sock, self._wake_r], [], [])
            except (_select.error, ValueError, OSError) as e:
                if getattr(e, 'errno', None) == 4 or (
                        e.args and e.args[0] == 4):  # EINTR on Python 2
                    continue
                return False
            if self._wake_r in r or not self._running:
                return False
            if sock in r:
                return True

    def _udp_loop(self):
        sock = self._udp
        while self._wait_readable(sock):
            try:
                data, peer = sock.recvfrom(65535)
            except _socket.error:
                continue

            def send(wire, peer=peer):
                try:
                    sock.sendto(wire, peer)
                except _socket.error:
                    pass
            try:
                self._handle(data, 'udp', send)
            except Exception as e:  # keep serving whatever happens
                sys.stderr.write('dnsserver: udp handler error: %r\n' % (e,))

    def _accept_loop(self):
        sock = self._tcp
        while self._wait_readable(sock):
            try:
                conn, _ = sock.accept()
            except _socket.error:
                continue
            with self._lock:
                if not self._running:
                    conn.close()
                    return
                self._conns.add(conn)
            t = _threading.Thread(target=self._tcp_conn, args=(conn,),
                                  name='dnsserver-tcp-conn')
            t.daemon = True
            t.start()

    def _recv_exact(self, conn, n):
        buf = b''
        while len(buf) < n:
            if not self._wait_readable(conn):
                return None
            try:
                chunk = conn.recv(n - len(buf))
            except _socket.error:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _tcp_conn(self, conn):
        send_lock = _threading.Lock()

        def send(wire):
            with send_lock:
                try:
                    conn.sendall(struct.pack('!H', len(wire)) + wire)
                except _socket.error:
                    pass
        try:
            while True:
                header = self._recv_exact(conn, 2)
                if header is None:
                    return
                data = self._recv_exact(conn, struct.unpack('!H', header)[0])
                if data is None:
                    return
                try:
                    self._handle(data, 'tcp', send)
                except Exception as e:
                    sys.stderr.write('dnsserver: tcp handler error: %r\n'
                                     % (e,))
        finally:
            with self._lock:
                self._conns.discard(conn)
            try:
                conn.close()
            except _socket.error:
                pass

