"""The hot path: a call to a host greenfix has seen before.

One structure, :class:`HotTable`, and its readers, all here:

``HotTable.tables[family]``
    a dict, per address family, from the host object a caller passed to

    * ``None``: an IP literal (:data:`greenfix.address.LITERAL`): the call
      goes to the C method unchanged, as eventlet would make it;
    * ``(key, head, expires, entry)`` for a name with a positive cached
      answer: ``key`` is the very ``str`` object the dict holds as its key,
      ``head`` the 1-tuple ``(numeric address,)``, ``expires`` the answer's
      expiry on the cache clock, ``entry`` the cache's
      :class:`~greenfix.cache.Entry`, whose ``hits`` counts the calls
      served.  While ``expires`` is ahead of the clock, the caller's tuple is
      handed over as ``head + address[1:]``: port, flowinfo and scope_id stay
      the caller's.

    The cache keeps it in step with its entries (:meth:`HotTable.add_name`,
    :meth:`~HotTable.renew`, :meth:`~HotTable.forget`, under the cache's
    lock); the slow path adds literals.  An entry's address and expiry never
    change (a refresh makes a new entry, and ``renew()`` new values).  The
    dicts are never replaced, only emptied: sockets keep a reference to
    theirs.

:meth:`HotTable.translate`
    for every wrapped method (``Translator.translate``);
:func:`green_sendto`
    eventlet's ``GreenSocket.sendto``, which loggers and metrics clients
    call for every record, with the lookup inline;
:func:`gevent_sendto`
    gevent's ``socket.sendto``, the same for gevent.

A name is served to any tuple, kept or built per call, from any socket of
the family: nothing is remembered per caller tuple.  What decides a host
is a literal or a name is :func:`greenfix.address.classify`; everything the
hot path does not answer goes to the slow path
(``Translator._translate_slow``), which resolves through the cache.

Only exact ``str`` hosts are served a name's answer (the dict's own key
object, or another ``str`` equal to it): a ``str`` subclass (and
``unicode`` on Python 2) that compares equal goes through CPython's "idna"
codec, which may reject it.  Only tuples are translated: CPython raises
for any other sequence.  A literal is handed over unchanged whatever object
found it, which is exactly what eventlet does with it.

Why the value holds ``key``, ``head`` and ``expires`` rather than the
entry alone: each saved a measurable part of a ``sendto`` to a cached name on
Python 3.6 and 3.8; see :func:`green_sendto` for the figures.
"""

from __future__ import absolute_import

import socket

import six

from greenfix.compat import clock as _clock

#: How many spellings of one name (say str and IDNA text) the table keeps.
ALIASES_MAX = 4

#: Host types the table maps to a name's answer.  Not bytes on Python 3:
#: ``memoryview(b"name")`` compares and hashes equal to ``b"name"``, and
#: CPython rejects it (TypeError); bytes names take the slow path.
ALIAS_TYPES = (str, six.text_type) if six.PY2 else (str,)

#: How many IP literals per family the table remembers before starting
#: afresh.
LITERALS_MAX = 4096

_LITERAL_TYPES = (bytes, six.text_type, str)


def _served(key, entry):
    """The table's value for a name (see the module docstring)."""
    return (key, (entry.address,), entry.expires, entry)


class HotTable(object):
    """Per family: host object -> None (a literal) or
    ``(key, head, expires, entry)`` (a name); see the module docstring."""

    def __init__(self):
        self.tables = {socket.AF_INET: {}, socket.AF_INET6: {}}
        self._literals = {socket.AF_INET: 0, socket.AF_INET6: 0}
        self._aliases = {}      # cache key (host bytes, family) -> host objects

    # ------------------------------------------------------------ readers
    def translate(self, family, address):
        """``address`` itself for a literal already seen, the caller's tuple
        with the cached address for a fresh cached name; None otherwise."""
        try:
            if type(address) is tuple:
                host = address[0]
                hit = self.tables[family][host]
                if hit is None:
                    return address
                key, head, expires, entry = hit
                if expires > _clock() and (host is key or type(host) is str):
                    entry.hits += 1
                    return head + address[1:]
        except (KeyError, IndexError, TypeError):
            pass
        return None

    # ------------------------------------------------------------ writers
    def add_literal(self, family, host):
        """Let the hot path hand ``host`` over unchanged (the caller holds
        the cache lock)."""
        table = self.tables.get(family)
        if table is None or type(host) not in _LITERAL_TYPES or host in table:
            return
        if self._literals[family] >= LITERALS_MAX:
            for other in [h for h, hit in table.items() if hit is None]:
                del table[other]
            self._literals[family] = 0
        table[host] = None
        self._literals[family] += 1

    def add_name(self, key, alias, entry):
        """Serve ``entry`` (fresh, positive) to callers passing ``alias``
        for the name ``key`` = (host bytes, family)."""
        aliases = self._aliases.get(key, ())
        if alias is None or type(alias) not in ALIAS_TYPES or alias in aliases \
                or len(aliases) >= ALIASES_MAX:
            return
        self.tables[key[1]][alias] = _served(alias, entry)
        self._aliases[key] = aliases + (alias,)

    def renew(self, key, entry):
        """A new positive ``entry`` for ``key`` (a refresh): its spellings
        are served from it."""
        for alias in self._aliases.get(key, ()):
            self.tables[key[1]][alias] = _served(alias, entry)

    def forget(self, key):
        """``key`` has no positive entry any more (evicted, negative)."""
        for alias in self._aliases.pop(key, ()):
            table = self.tables[key[1]]
            if table.get(alias) is not None:
                del table[alias]

    def clear(self):
        """Forget every literal and name (the dicts stay the same objects)."""
        for family, table in self.tables.items():
            table.clear()
            self._literals[family] = 0
        self._aliases.clear()

    def names(self, family):
        """The host objects served a name's answer (for tests, benchmarks)."""
        return [host for host, hit in self.tables[family].items() if hit is not None]


# -------------------------------------------------------------------------
# GreenSocket.sendto

#: The GreenSocket attribute in which :func:`green_sendto` keeps, per socket,
#: ``(table, send loop, fd)``: the :class:`HotTable` dict of the socket's
#: family, and what eventlet's ``sendto`` loads from the socket on every
#: call, ``self._send_loop(self.fd.sendto, ...)``, looked up once (eventlet
#: sets ``fd`` once, in ``__init__``).  Loading those
#: two from a GreenSocket costs about 100 ns a call, because GreenSocket
#: defines ``__getattr__``, so no interpreter specialises or caches
#: attribute loads on it: one load of this tuple instead pays for the
#: table lookup.  Nothing in it refers to the GreenSocket (no reference
#: cycle); unused once unpatch() has run.
MEMO = "_greenfix_sendto_memo"

#: The class-level default of :data:`MEMO`: an empty table, so that a
#: socket's first ``sendto`` takes the slow path, which sets the socket's own.
NO_MEMO = ({}, None, None)


def green_sendto(hot, wrapper, family_of):
    """``GreenSocket.sendto`` with the hot path inline.

    ``sendto(data, address)`` costs one load of the socket's :data:`MEMO`
    and one dict lookup more than eventlet's own body,
    ``self._send_loop(self.fd.sendto, data, address)`` (the same in every
    release from 0.33 to 0.41), which it then runs with the loop and ``fd``
    from the memo and the address passed positionally: for a literal that
    is all.  A name costs the TTL check (the cache clock), the
    type checks, the hit count and the new tuple.  Anything else (flags,
    other shapes, names not cached or expired, bad input, a socket's first
    call) goes to ``wrapper``, which resolves and mirrors CPython's checks,
    and then (re)sets the socket's memo.

    How the name's part is spelt was measured on Python 3.6.15 (eventlet
    0.33.3), the slowest interpreter here for it: cached name / literal with
    one tuple kept, median of 3 processes of benchmarks/bench_hotpath.py
    (101 rounds), one change after the other:

    * the entry's fields, the ``type()`` checks with globals: 1.126x;
    * builtins and the clock as closure cells (LOAD_DEREF instead of
      LOAD_GLOBAL, which only 3.11 specialises): 1.107x;
    * ``host is key`` before ``type(host) is str``: 1.102x;
    * ``head + address[1:]`` instead of ``(entry.address,) + address[1:]``:
      1.096x;
    * ``expires`` from the value instead of ``entry.expires``: 1.086x.

    (3.8: 1.106x before, 1.087x after; 2.7: 1.08x before, 1.06x after;
    3.11: 1.07x both.)  The hit count alone costs about 2 % on 3.6, the
    clock about 2.5 %; both stay, for ``stats()`` and the TTL.  (Longer
    than greenfix's usual 40 lines: the inline hot path cannot afford the
    call a helper would cost.)"""
    tables = hot.tables
    clock, _type, _str, _tuple = _clock, type, str, tuple

    def slow(sock, data, args):
        sent = wrapper(sock, data, *args)
        table = tables.get(family_of(sock))
        if table is not None:
            try:
                # the class's send loop, as ``self._send_loop`` finds it
                send_loop = six.get_unbound_function(type(sock)._send_loop)
                setattr(sock, MEMO, (table, send_loop, sock.fd))
            except Exception:  # an odd socket: no memo
                pass
        return sent

    # One spelling for Python 2 and 3: the memo holds the socket's ``fd``
    # and its ``sendto`` is read per call, as eventlet's body reads it.  On
    # Python 2 that is needed (close() there swaps the socket object's
    # methods for ones raising EBADF and leaves the C socket to its
    # reference count: a kept bound method would go on sending); on
    # Python 3 keeping ``fd.sendto`` bound would save about 1 % of a literal
    # sendto (3.6: 0.980x instead of 0.990x of eventlet's own; 3.11: 0.960x
    # instead of 0.971x), not worth a second copy of this function.
    def sendto(self, data, *args):
        table, send_loop, fd = self._greenfix_sendto_memo  # MEMO spelt out
        try:
            address, = args
            host = address[0]
            hit = table[host]
        except Exception:  # other shapes, odd objects, hosts not seen
            return slow(self, data, args)
        if hit is None:  # an IP literal
            return send_loop(self, fd.sendto, data, address)
        key, head, expires, entry = hit
        if expires > clock() and (host is key or _type(host) is _str) \
                and _type(address) is _tuple:
            entry.hits += 1
            return send_loop(self, fd.sendto, data, head + address[1:])
        return slow(self, data, args)
    return sendto


# -------------------------------------------------------------------------
# gevent's socket.sendto

def gevent_sendto(hot, wrapper, original, would_block):
    """gevent's ``socket.sendto`` with the hot path inline.

    gevent's own (``SocketMixin.sendto(self, *args)``, the same from 21.12
    to 26.x) tries ``self._sock.sendto(*args)`` at once and only if that
    raises EWOULDBLOCK waits and tries again.  ``sendto(data, address)`` to
    a literal here makes the same first try, with the family's table looked
    up on the way; a cached name, with the cached address as
    :func:`green_sendto` hands it over.  When the try raises, and gevent
    would wait (``would_block(sock, exc)``), the call goes on in
    ``original``, gevent's own function, which tries again first: the
    first try sent nothing, so the outcome is gevent's.  Anything else
    (flags, other shapes, names not cached or expired, bad input, a closed
    socket on Python 2) goes to ``wrapper``.

    gevent's socket has ``__slots__`` and no ``__dict__``, so there is no
    per-socket memo as under eventlet: the family comes from the C socket
    (``self._sock.family``, an int on Python 2 and 3), and indexes a list of
    the family tables (None for other families, which the ``except`` sends
    to the slow path; CPython resolves for no other family).

    Why (benchmarks/bench_hotpath.py, gevent 26.9.0 / 22.10.2, 5 processes
    of 501 rounds; and a side-by-side loop of 800 rounds for the spellings,
    on a loaded 2-vCPU machine), literal patched / gevent's own ``sendto``:

    * the plain wrapper (``wrappers.sendto``, then ``Translator.translate``
      and ``HotTable.translate``: three Python calls): 1.257x to 1.301x on
      3.11, 1.257x to 1.315x on 2.7 (3 processes of 201 rounds);
    * inline, ``tables[family][host]`` (a dict per family): 1.034x to
      1.042x on 3.11, 1.046x to 1.055x on 2.7; cached name / literal 1.07x
      to 1.08x;
    * the family's table from a list instead of the dict (above): 3.11
      1.029x -> 1.012x in the loop (the dict lookup by an int key was most
      of the difference; the C ``family`` read costs little), 2.7 1.048x ->
      1.040x;
    * a set of the literals of both families, asked first, no family read
      at all: literal 1.009x (3.11), 1.036x (2.7), but a name asks it too
      and misses: cached name / literal 1.11x on 3.11.  Not taken;
    * ``if hit:`` and the host read again only for a name: 2.7 1.041x ->
      1.039x in the loop (Python 2 runs every opcode it is given).

    As it is (5 processes of 501 rounds, load 1 to 2): literal 1.017x to
    1.033x on 3.11, 1.040x to 1.048x on 2.7 (70 to 110 ns, and 170 ns, over
    gevent's 3.3 and 3.6 us); cached name / literal 1.071x to 1.086x, and
    1.061x to 1.075x.  Python 2.7 misses the 1.03x target for the literal:
    what is left is the argument unpacking, the two table lookups and the
    ``try`` blocks, the least work that keeps gevent's behaviour."""
    by_family = [None] * (max(hot.tables) + 1)    # family number -> table
    for family, table in hot.tables.items():
        by_family[family] = table
    clock, _type, _str, _tuple, error = _clock, type, str, tuple, socket.error

    def sendto(self, *args):
        sock = self._sock
        try:
            data, address = args
            hit = by_family[sock.family][address[0]]
        except Exception:  # other shapes, odd objects, other families, hosts not seen
            return wrapper(self, *args)
        if hit:  # a name (a literal's is None)
            host = address[0]
            key, head, expires, entry = hit
            if not (expires > clock() and (host is key or _type(host) is _str)
                    and _type(address) is _tuple):
                return wrapper(self, *args)
            entry.hits += 1
            address = head + address[1:]
        try:
            return sock.sendto(data, address)
        except error as exc:
            if not would_block(self, exc):
                raise
        return original(self, data, address)
    return sendto
