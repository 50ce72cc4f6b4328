"""One address-taking call under a heartbeat, in a fresh interpreter.

Run as ``python scenario.py '<json>'`` (by ``tests/test_regression.py``,
directly or inside the namespace harness).  The config keys:

``framework``   "eventlet" (the default) or "gevent": which monkey-patches
``method``      one of :data:`METHODS`, or "syslog_stream" (below)
``family``      "inet" or "inet6"
``greenfix``    call ``greenfix.patch()`` after monkey-patching
``dns``         "answer" or "drop": what the test DNS server does
``system``      true: the server listens on 127.0.0.1:53 and greenfix uses the
                default configuration (/etc/resolv.conf, as bind-mounted by
                the namespace harness); false: an ephemeral port, passed to
                ``patch(nameservers=...)`` with ``timeout``/``attempts``
``timeout``, ``attempts``  resolver budget for the non-system mode

"syslog_stream" sends ``records`` records through one ``SysLogHandler`` to
the name, ``interval`` seconds apart, while DNS goes dark after
``dark_after`` seconds or drops a ``loss`` fraction of queries (the
original incident); the name's TTL is ``ttl``.  It reports every emit's
latency and how many records arrived.

It prints one JSON line: the worst gap between heartbeat ticks (a green thread
sleeping 1 ms) while the call ran, raw and net of CPU waits (tests/heartbeat.py), the call's outcome (value, or exception
type, errno and message), its duration, whether the datagram or connection
arrived, and how many queries the DNS server saw.
"""

from __future__ import print_function

import json
import sys

if __name__ == "__main__" and json.loads(sys.argv[1]).get("framework") == "gevent":
    from gevent import monkey
    monkey.patch_all()
else:
    import eventlet
    eventlet.monkey_patch()

import logging  # noqa: E402
import logging.handlers  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
from dnsserver import DNSServer  # noqa: E402
from heartbeat import Heartbeat  # noqa: E402

NAME = "svc.example.test"
LOOPBACK = {"inet": ("127.0.0.1", socket.AF_INET), "inet6": ("::1", socket.AF_INET6)}


def _udp_call(call):
    def run(sock, family, port):
        sock.settimeout(5)
        return call(sock, (NAME, port))
    run.kind = "udp"
    return run


def _tcp_call(call):
    def run(sock, family, port):
        return call(sock, (NAME, port))
    run.kind = "tcp"
    return run


def _tls(sock):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT) if hasattr(ssl, "PROTOCOL_TLS_CLIENT") \
        else ssl.SSLContext(ssl.PROTOCOL_SSLv23)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(sock, do_handshake_on_connect=False)


def _ssl_connect(sock, family, port):
    return _tls(sock).connect((NAME, port))


def _ssl_connect_nonblocking(sock, family, port):
    tls = _tls(sock)
    tls.setblocking(False)
    return tls.connect((NAME, port))


_ssl_connect.kind = _ssl_connect_nonblocking.kind = "tcp"


def _handler_call(make):
    def run(sock, family, port):
        sock.close()
        _emit(make(port))
    run.kind = "udp"
    return run


def _nonblocking_call(call):
    def run(sock, family, port):
        sock.setblocking(False)
        return call(sock, (NAME, port))
    run.kind = "tcp"
    return run


METHODS = {
    "sendto": _udp_call(lambda s, a: s.sendto(b"ping", a)),
    "sendto_flags": _udp_call(lambda s, a: s.sendto(b"ping", 0, a)),
    "sendmsg": _udp_call(lambda s, a: s.sendmsg([b"ping"], [], 0, a)),
    # gevent's sendmsg takes the address as a keyword too
    "sendmsg_keyword": _udp_call(lambda s, a: s.sendmsg([b"ping"], address=a)),
    "connect_udp": _udp_call(lambda s, a: (s.connect(a), s.send(b"ping"))[1]),
    "connect_tcp": _tcp_call(lambda s, a: s.connect(a)),
    "connect_ex_tcp": _tcp_call(lambda s, a: s.connect_ex(a)),
    # timeout 0.0: gevent hands the address to the C connect unresolved
    "connect_nonblocking": _nonblocking_call(lambda s, a: s.connect(a)),
    "connect_ex_nonblocking": _nonblocking_call(lambda s, a: s.connect_ex(a)),
    "bind": _udp_call(lambda s, a: (s.bind((a[0], 0)), s.getsockname()[0],
                                    s.sendto(b"ping", (s.getsockname()[0], a[1])))[1]),
    "ssl_connect": _ssl_connect,
    "ssl_connect_nonblocking": _ssl_connect_nonblocking,
    "datagram_handler": _handler_call(
        lambda port: logging.handlers.DatagramHandler(NAME, port)),
    "syslog_handler": _handler_call(None),  # run by _syslog()
}


def heartbeat_during(call):
    """Run ``call()`` under a 1 ms green heartbeat; return (worst gap, worst
    gap net of CPU waits, outcome dict, duration)."""
    with Heartbeat() as beat:
        try:
            outcome = {"ok": True, "value": repr(call())}
        except Exception as exc:
            outcome = {"ok": False, "type": type(exc).__name__,
                       "errno": getattr(exc, "errno", None), "message": str(exc)}
    return beat.gap, beat.net_gap, outcome, beat.duration


def main(config):
    family_name = config.get("family", "inet")
    loopback, family = LOOPBACK[family_name]
    server = DNSServer(port=53 if config.get("system") else 0).start()
    server.add(NAME, "A", "127.0.0.1", ttl=config.get("ttl", 60))
    server.add(NAME, "AAAA", "::1", ttl=config.get("ttl", 60))
    server.add_soa("example.test", minimum=30)
    if config["method"] in ("syslog_handler", "syslog_stream"):
        # SysLogHandler (Python 3) makes its socket for the first
        # getaddrinfo() result: keep only the family the receiver listens on.
        server.remove(NAME, "AAAA" if family == socket.AF_INET else "A")
    if config["dns"] == "drop" and config["method"] not in ("syslog_handler", "syslog_stream"):
        server.set_behavior("drop")

    if config.get("greenfix"):
        import greenfix
        options = {}
        if not config.get("system"):
            options = {"nameservers": ["127.0.0.1:%d" % server.port],
                       "timeout": config.get("timeout", 1),
                       "attempts": config.get("attempts", 1)}
        greenfix.patch(**options)

    method = METHODS.get(config["method"], _udp_call(None))
    receiver = socket.socket(family, socket.SOCK_DGRAM if method.kind == "udp"
                             else socket.SOCK_STREAM)
    receiver.bind((loopback, 0))
    port = receiver.getsockname()[1]
    if method.kind == "tcp":
        receiver.listen(5)
    sock = socket.socket(family, socket.SOCK_DGRAM if method.kind == "udp"
                         else socket.SOCK_STREAM)

    if config["method"] == "syslog_stream":
        print(json.dumps(_syslog_stream(receiver, server, config)))
        server.stop()
        return
    if config["method"] == "syslog_handler":
        gap, net_gap, outcome, duration = heartbeat_during(
            lambda: _syslog(sock, server, config, port))
    else:
        gap, net_gap, outcome, duration = heartbeat_during(lambda: method(sock, family, port))

    arrived = _arrived(receiver, method.kind)
    print(json.dumps({"gap": gap, "net_gap": net_gap, "outcome": outcome, "duration": duration,
                      "arrived": arrived, "queries": server.count(),
                      "python": sys.version.split()[0]}))
    server.stop()


def _syslog(sock, server, config, port):
    # SysLogHandler.__init__ resolves the host with socket.getaddrinfo
    # (greendns, Python 3) while DNS still answers; then DNS goes quiet and
    # emit() passes the name to sendto() for every record.
    sock.close()
    handler = logging.handlers.SysLogHandler((NAME, port))
    if config["dns"] == "drop":
        server.set_behavior("drop")
    _emit(handler)


def _syslog_stream(receiver, server, config):
    """The incident: records through one SysLogHandler to a name while DNS
    goes dark (or loses queries); each emit's latency, the hub's worst gap,
    the records that arrived."""
    from heartbeat import clock, green
    spawn, sleep = green()
    arrived = []

    def receive():
        while True:
            arrived.append(receiver.recv(1000))
    spawn(receive)
    handler = logging.handlers.SysLogHandler((NAME, receiver.getsockname()[1]))
    errors = []
    handler.handleError = lambda record: errors.append(repr(sys.exc_info()[1]))
    if config.get("loss"):
        server.set_behavior("drop_fraction", fraction=config["loss"], seed=1)
    latencies = []
    with Heartbeat() as beat:
        start = clock()
        for number in range(config["records"]):
            if config.get("dark_after") is not None and clock() - start >= config["dark_after"]:
                server.set_behavior("drop")
            record = logging.LogRecord("greenfix.test", logging.INFO, __file__, 1,
                                       "record %d", (number,), None)
            before = clock()
            handler.emit(record)
            latencies.append(clock() - before)
            sleep(config.get("interval", 0.01))
        sleep(0.2)
    handler.close()
    latencies.sort()
    return {"records": config["records"], "arrived": len(arrived), "errors": errors[:3],
            "error_count": len(errors), "p99": latencies[int(len(latencies) * 0.99) - 1],
            "max": latencies[-1], "gap": beat.gap, "net_gap": beat.net_gap,
            "queries": server.count(), "seconds": clock() - start}


def _emit(handler):
    errors = []
    handler.handleError = lambda record: errors.append(sys.exc_info()[1])
    record = logging.LogRecord("greenfix.test", logging.INFO, __file__, 1,
                               "hello %s", ("world",), None)
    handler.emit(record)
    handler.close()
    if errors:
        raise errors[0]


def _arrived(receiver, kind):
    receiver.settimeout(0.5)
    try:
        if kind == "udp":
            return receiver.recvfrom(100)[0] != b""
        conn, _ = receiver.accept()
        conn.close()
        return True
    except socket.timeout:
        return False


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
