"""patch(), unpatch() and is_patched(): what they replace and put back, and
what the wrapped methods hand to the C methods."""

import socket
import warnings

import pytest
from eventlet.green import ssl as green_ssl
from eventlet.greenio.base import GreenSocket

import children
import greenfix
from greenfix.libc import needs_lookup
from greenfix.patchers.state import PatchSet

PATCHED = [(GreenSocket, name) for name in ("connect", "connect_ex", "sendto", "bind")]
PATCHED += [(green_ssl.GreenSSLSocket, name) for name in ("connect", "connect_ex", "bind")]
if hasattr(socket.socket, "sendmsg"):
    PATCHED.append((GreenSocket, "sendmsg"))
UNTOUCHED = [(GreenSocket, name) for name in ("send", "sendall", "recv", "recvfrom", "accept")]


def snapshot(pairs):
    return dict(((cls, name), vars(cls).get(name)) for cls, name in pairs)


@pytest.fixture
def clean():
    assert not greenfix.is_patched()
    yield
    greenfix.unpatch()


def test_patch_replaces_and_unpatch_restores_identical_originals(clean):
    before = snapshot(PATCHED + UNTOUCHED)
    assert greenfix.patch(nameservers=["127.0.0.1:9"]) is True
    assert greenfix.is_patched()
    during = snapshot(PATCHED + UNTOUCHED)
    for key in snapshot(PATCHED):
        assert during[key] is not before[key], key
    for key in snapshot(UNTOUCHED):
        assert during[key] is before[key], key
    assert greenfix.unpatch() is True
    assert not greenfix.is_patched()
    after = snapshot(PATCHED + UNTOUCHED)
    for key, original in before.items():
        assert after[key] is original, key


def test_unpatch_leaves_the_classes_exactly_as_they_were(clean):
    """Nothing greenfix added (the sendto memo's class default, say) stays
    behind, and nothing it replaced is left different."""
    classes = (GreenSocket, green_ssl.GreenSSLSocket)
    before = [dict(vars(cls)) for cls in classes]
    greenfix.patch(nameservers=["127.0.0.1:9"])
    assert [dict(vars(cls)) for cls in classes] != before
    greenfix.unpatch()
    after = [dict(vars(cls)) for cls in classes]
    for was, now in zip(before, after):
        assert sorted(now) == sorted(was)
        assert all(now[name] is was[name] for name in was), \
            [name for name in was if now[name] is not was[name]]


def test_patch_is_idempotent(clean):
    assert greenfix.patch(nameservers=["127.0.0.1:9"]) is True
    first = snapshot(PATCHED)
    assert greenfix.patch(nameservers=["127.0.0.1:9"]) is False
    assert snapshot(PATCHED) == first
    assert greenfix.unpatch() is True
    assert greenfix.unpatch() is False


def test_unpatch_keeps_a_later_foreign_patch(clean):
    original_connect = vars(GreenSocket)["connect"]
    greenfix.patch(nameservers=["127.0.0.1:9"])
    ours = vars(GreenSocket)["connect"]

    def theirs(self, address):
        return ours(self, address)
    GreenSocket.connect = theirs
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            greenfix.unpatch()
        assert vars(GreenSocket)["connect"] is theirs
        assert any("replaced by someone else" in str(w.message) for w in caught)
        assert vars(GreenSocket)["sendto"] is not None
    finally:
        GreenSocket.connect = original_connect


def test_patchset_deletes_what_was_inherited():
    class Base(object):
        def method(self):
            return "base"

    class Child(Base):
        pass

    patches = PatchSet()
    patches.replace(Child, "method", lambda self: "ours")
    assert Child().method() == "ours"
    patches.restore()
    assert "method" not in vars(Child)
    assert Child().method() == "base"


def test_unknown_option_and_resolver_are_clear_errors(clean):
    with pytest.raises(TypeError) as info:
        greenfix.patch(nameserver=["127.0.0.1"])
    assert "nameserver" in str(info.value)
    with pytest.raises(greenfix.GreenfixError) as info:
        greenfix.patch(resolver="bogus")
    assert "auto, greendns, threadpool" in str(info.value)
    assert not greenfix.is_patched()


def test_resolver_default_comes_from_environment(clean, monkeypatch):
    monkeypatch.setenv("GREENFIX_RESOLVER", "threadpool")
    greenfix.patch()
    from greenfix.control import _state
    assert _state.translator.cache.backend.name == "threadpool"


def test_greendns_disabled_falls_back_or_errors(clean, monkeypatch):
    monkeypatch.setenv("EVENTLET_NO_GREENDNS", "yes")
    with pytest.raises(greenfix.GreenfixError):
        greenfix.patch(resolver="greendns")
    greenfix.patch()
    from greenfix.control import _state
    assert _state.translator.cache.backend.name == "threadpool"


def test_warns_before_monkey_patch_and_errors_without_eventlet():
    code = (
        "import warnings, eventlet, greenfix\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    greenfix.patch(nameservers=['127.0.0.1:9'])\n"
        "print([str(x.message) for x in w if issubclass(x.category, RuntimeWarning)])\n"
    )
    out = children.check_output(["-W", "ignore::DeprecationWarning", "-c", code])
    assert b"before eventlet.monkey_patch()" in out
    code = (
        "import sys; sys.modules['eventlet'] = None\n"
        "import greenfix\n"
        "for framework in (None, 'eventlet', 'twisted'):\n"
        "    try:\n        greenfix.patch(framework=framework)\n"
        "    except greenfix.GreenfixError as e:\n        sys.stdout.write('error: %s\\n' % e)\n"
    )
    out = children.check_output(["-c", code]).decode()
    assert out.count("error: ") == 3, out
    assert "error: greenfix.patch() found no green framework in this process" in out
    assert "error: greenfix.patch() needs eventlet" in out
    assert "error: greenfix.patch(framework='twisted'): expected one of" in out


class SpyFd(object):
    """A socket stand-in for GreenSocket's ``fd`` that records every address
    handed to the C methods, then forwards to a real socket."""

    def __init__(self, real):
        self._real = real
        self.seen = []

    def __getattr__(self, name):
        return getattr(self._real, name)

    def _record(self, method, address):
        self.seen.append((method, address))

    def connect(self, address):
        self._record("connect", address)
        return self._real.connect(address)

    def connect_ex(self, address):
        self._record("connect_ex", address)
        return self._real.connect_ex(address)

    def bind(self, address):
        self._record("bind", address)
        return self._real.bind(address)

    def sendto(self, data, *args):
        self._record("sendto", args[-1])
        return self._real.sendto(data, *args)

    def sendmsg(self, *args):
        self._record("sendmsg", args[3])
        return self._real.sendmsg(*args)


def _spied(kind):
    from eventlet import patcher
    real = patcher.original("socket").socket(socket.AF_INET, kind)
    spy = SpyFd(real)
    return GreenSocket(spy), spy


def test_no_host_name_reaches_the_c_methods(patched):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    udp_port = receiver.getsockname()[1]

    udp, udp_spy = _spied(socket.SOCK_DGRAM)
    udp.bind(("svc.example.test", 0))
    udp.sendto(b"a", ("svc.example.test", udp_port))
    udp.sendto(b"b", 0, ("alias.example.test", udp_port))
    if hasattr(socket.socket, "sendmsg"):
        udp.sendmsg([b"c"], [], 0, ("svc.example.test", udp_port))
    udp.connect(("svc.example.test", udp_port))
    tcp, tcp_spy = _spied(socket.SOCK_STREAM)
    tcp.connect(("svc.example.test", port))
    tcp2, tcp2_spy = _spied(socket.SOCK_STREAM)
    assert tcp2.connect_ex(("alias.example.test", port)) == 0

    seen = udp_spy.seen + tcp_spy.seen + tcp2_spy.seen
    methods = set(method for method, _ in seen)
    assert methods >= set(["bind", "sendto", "connect_ex"]), seen
    for method, address in seen:
        assert address[0] == "127.0.0.1", (method, address)
        assert not needs_lookup(address[0], socket.AF_INET)
    for sock in (udp, tcp, tcp2, listener, receiver):
        sock.close()


def test_ssl_connect_hands_a_numeric_host_to_the_raw_connect(patched, monkeypatch):
    seen = []
    raw_socket_class = green_ssl.socket

    class Spy(object):
        @staticmethod
        def connect(sock, address):
            seen.append(address)
            return raw_socket_class.connect(sock, address)

    monkeypatch.setattr(green_ssl, "socket", Spy)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    context = green_ssl.SSLContext(green_ssl.PROTOCOL_SSLv23)
    tls = context.wrap_socket(socket.socket(socket.AF_INET, socket.SOCK_STREAM),
                              do_handshake_on_connect=False)
    tls.connect(("svc.example.test", listener.getsockname()[1]))
    assert seen and all(address[0] == "127.0.0.1" for address in seen), seen
    tls.close()
    listener.close()


def test_sendall_is_unaffected(patched):
    """sendall/send take no address: same function, same bytes delivered,
    no DNS query."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.connect(listener.getsockname())
    conn, _ = listener.accept()
    patched.clear_log()
    client.sendall(b"x" * 100000)
    client.close()
    received = b""
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            break
        received += chunk
    assert received == b"x" * 100000
    assert patched.count() == 0
    conn.close()
    listener.close()


def test_threadpool_backend_from_a_native_thread():
    """The lookup pool waits cooperatively only on the hub's thread; from
    another native thread the backend must call libc itself instead of
    deadlocking.  ("localhost" comes from /etc/hosts: no DNS traffic.)"""
    from eventlet import patcher
    from greenfix.frameworks.eventlet import make_pool
    from greenfix.resolvers.threadpool import ThreadPoolResolver

    resolver = ThreadPoolResolver(make_pool(2))
    results = []
    thread = patcher.original("threading").Thread(
        target=lambda: results.append(resolver.resolve(b"localhost", socket.AF_INET)))
    thread.start()
    thread.join(10)
    assert not thread.is_alive()
    assert results and results[0].address == "127.0.0.1"
    assert resolver.resolve(b"localhost", socket.AF_INET).address == "127.0.0.1"


def test_unimportable_dnspython_falls_back_to_the_thread_pool():
    """eventlet issue 805's situation: dnspython cannot be imported, eventlet
    runs with EVENTLET_NO_GREENDNS=yes; "auto" must still patch (thread pool)
    and "greendns" must say why it cannot."""
    code = (
        "import sys\n"
        "for name in ('dns', 'dns.message', 'dns.name', 'dns.rdatatype'):\n"
        "    sys.modules[name] = None\n"
        "import eventlet; eventlet.monkey_patch()\n"
        "import greenfix\n"
        "from greenfix.control import _state\n"
        "try:\n"
        "    greenfix.patch(resolver='greendns')\n"
        "except greenfix.GreenfixError as exc:\n"
        "    sys.stdout.write('greendns: %s\\n' % exc)\n"
        "greenfix.patch()\n"
        "sys.stdout.write('auto: %s\\n' % _state.translator.cache.backend.name)\n"
    )
    out = children.check_output(["-W", "ignore", "-c", code],
                                extra_env={"EVENTLET_NO_GREENDNS": "yes"})
    assert b"greendns: resolver='greendns' but EVENTLET_NO_GREENDNS=yes" in out, out
    assert b"auto: threadpool" in out, out
